import HarsanyiCore

/// A dense tensor in C order: float32 for activations and weights, int64 for shape arithmetic.
public struct Tensor: Sendable, Equatable {
    public enum DType: String, Sendable { case float32, int64 }

    public var shape: [Int]
    public var dtype: DType
    public var floats: [Float]
    public var ints: [Int64]

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    public init(shape: [Int], floats: [Float]) {
        self.shape = shape
        dtype = .float32
        self.floats = floats
        ints = []
    }

    public init(shape: [Int], ints: [Int64]) {
        self.shape = shape
        dtype = .int64
        floats = []
        self.ints = ints
    }

    /// The values as Float whatever the dtype.
    public var asFloats: [Float] { dtype == .float32 ? floats : ints.map { Float($0) } }
    /// The values as Int whatever the dtype (floats truncated; NaN, infinities and floats beyond ±2^62 become
    /// ±2^62, which every shape and axis check refuses, instead of trapping in the conversion).
    public var asInts: [Int] {
        dtype == .int64 ? ints.map { Int($0) } : floats.map { $0.isNaN ? -(1 << 62) : Int(max(-0x1p62, min(0x1p62, $0))) }
    }
}

/// Row-major strides of a shape.
public func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        acc *= shape[i]
    }
    return s
}

/// Normalises a possibly negative axis for a tensor of `rank`.
func normalizeAxis(_ axis: Int, rank: Int, node: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < max(rank, 1) else { throw ONNXError.invalid(node, "axis \(axis) out of range for rank \(rank)") }
    return a
}

/// The window of a Conv or pool over a 1-D or 2-D input (1-D as height 1), from the node's attributes: kernel,
/// strides, dilations, pads (auto_pad and ceil_mode applied) and the output size. Every executor (the
/// interpreter, the compiled CPU program, the OpenCL planner) reads its geometry here; bad attributes are errors
/// naming the node.
public struct WindowGeometry: Sendable {
    public let spatial, inH, inW, kH, kW, sH, sW, dH, dW: Int
    /// Leading padding in effect (auto_pad aware).
    public let padTop, padLeft: Int
    /// Trailing pads as the attribute gives them (what count_include_pad counts).
    public let padBottom, padRight: Int
    public let outH, outW: Int

    /// - Parameters: input: the input's shape [N, C, (H,) W]; kernel: the spatial kernel sizes; ceil: ceil_mode.
    public init(_ node: Node, input: [Int], kernel: [Int], ceil: Bool = false) throws {
        let spatial = input.count - 2
        guard spatial == 1 || spatial == 2 else {
            throw ONNXError.unsupported(node.name, "\(node.op) on input \(input) (1-D and 2-D supported)")
        }
        guard kernel.count == spatial, kernel.allSatisfy({ $0 >= 1 }) else {
            throw ONNXError.invalid(node.name, "\(node.op) kernel \(kernel) for \(spatial) spatial axes")
        }
        let st = node.ints("strides") ?? [Int](repeating: 1, count: spatial)
        let dl = node.ints("dilations") ?? [Int](repeating: 1, count: spatial)
        let pads = node.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
        guard st.count == spatial, dl.count == spatial, pads.count == 2 * spatial else {
            throw ONNXError.invalid(node.name, "\(node.op) strides/dilations/pads do not match \(spatial) spatial axes")
        }
        guard st.allSatisfy({ $0 >= 1 }), dl.allSatisfy({ $0 >= 1 }), pads.allSatisfy({ $0 >= 0 }) else {
            throw ONNXError.invalid(node.name, "\(node.op) strides \(st) and dilations \(dl) must be ≥ 1, pads \(pads) ≥ 0")
        }
        // Bounds that keep the window arithmetic from overflowing and the output from outgrowing the input: kernel,
        // stride and dilation ≤ 2^31, and a pad at most the input axis (pools) or the input axis plus the dilated
        // kernel's reach (Conv; wider pads only add windows entirely in padding). A 5 × 5 "same" Conv on a 1 × 1 map
        // (MobileNet-V3 at 32 × 32) pads 2.
        let extents = spatial == 2 ? [input[2], input[3]] : [input[2]]
        guard (kernel + st + dl).allSatisfy({ $0 <= 1 << 31 }),
            pads.enumerated().allSatisfy({
                let axis = $0.offset % spatial
                return $0.element <= extents[axis] + (node.op == "Conv" ? (kernel[axis] - 1) * dl[axis] : 0)
            })
        else {
            throw ONNXError.unsupported(
                node.name, "\(node.op) kernel \(kernel), strides \(st), dilations \(dl), pads \(pads) on input \(input)")
        }
        self.spatial = spatial
        inH = spatial == 2 ? input[2] : 1
        inW = input[input.count - 1]
        (kH, kW) = spatial == 2 ? (kernel[0], kernel[1]) : (1, kernel[0])
        (sH, sW) = spatial == 2 ? (st[0], st[1]) : (1, st[0])
        (dH, dW) = spatial == 2 ? (dl[0], dl[1]) : (1, dl[0])
        let (pHb, pWb, pHe, pWe) = spatial == 2 ? (pads[0], pads[1], pads[2], pads[3]) : (0, pads[0], 0, pads[1])
        let hw = Linear.window(node, input: inH, kernel: kH, stride: sH, dilation: dH, padBegin: pHb, padEnd: pHe, ceil: ceil)
        let ww = Linear.window(node, input: inW, kernel: kW, stride: sW, dilation: dW, padBegin: pWb, padEnd: pWe, ceil: ceil)
        (outH, outW) = (spatial == 2 ? hw.out : 1, ww.out)
        (padTop, padLeft) = (spatial == 2 ? hw.begin : 0, ww.begin)
        (padBottom, padRight) = (pHe, pWe)
        guard outH > 0, outW > 0 else { throw ONNXError.invalid(node.name, "\(node.op) output would be empty for input \(input)") }
    }
}

/// Errors of model import and execution; each becomes a one-line `HarsanyiError`.
enum ONNXError {
    static func invalid(_ node: String, _ why: String) -> HarsanyiError { .invalidArgument("node \(node): \(why)") }
    static func unsupported(_ node: String, _ why: String) -> HarsanyiError { .unsupported("node \(node): \(why)") }
}

/// Shape rules shared by every executor (CPU operators here, the OpenCL executor in HarsanyiOpenCL).
public enum ShapeRules {
    /// The numpy broadcast shape of a and b, or nil when they do not broadcast.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? { Elementwise.broadcastShape(a, b) }
    /// Strides of `shape` viewed in the broadcast `target` shape (0 on broadcast axes).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] { Elementwise.broadcastStrides(shape, to: target) }
    /// Drops size-1 axes and merges neighbouring axes that every operand walks contiguously (stride of the outer
    /// = stride · size of the inner, 0 and 0 for a broadcast run): fewer index steps per element in the loops and
    /// kernels that walk them. All-size-1 shapes become [1] with stride 0.
    public static func mergeAxes(_ shape: [Int], _ strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        var dims: [Int] = [], st: [[Int]] = strides.map { _ in [] }
        for d in shape.indices where shape[d] != 1 {
            if let last = dims.last, strides.indices.allSatisfy({ st[$0].last == strides[$0][d] * shape[d] }) {
                dims[dims.count - 1] = last * shape[d]
                for k in strides.indices { st[k][st[k].count - 1] = strides[k][d] }
            } else {
                dims.append(shape[d])
                for k in strides.indices { st[k].append(strides[k][d]) }
            }
        }
        if dims.isEmpty { return ([1], strides.map { _ in [0] }) }
        return (dims, st)
    }

    /// Output size and leading padding of one spatial axis of Conv or a pool (auto_pad, ceil_mode aware).
    public static func window(_ node: Node, input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int, ceil: Bool = false)
        -> (out: Int, begin: Int)
    {
        Linear.window(node, input: input, kernel: kernel, stride: stride, dilation: dilation, padBegin: padBegin, padEnd: padEnd, ceil: ceil)
    }
}

extension Tensor {
    /// A tensor from an .npy array: integer and bool arrays as int64, float arrays as float32.
    public init(npy a: NPYArray) {
        switch a.type {
        case .int64, .int32, .bool: self.init(shape: a.shape, ints: a.doubles().map { Int64($0) })
        default: self.init(shape: a.shape, floats: a.floats())
        }
    }
}
