import CBLAS
import Foundation
import HarsanyiCore

/// A suffix plan compiled for the CPU path at one batch size: what runs each of the 2^n / batch masked batches.
///
/// Compilation runs the plan once through the operator interpreter (`ONNXModel.evaluate`) on a batch of that size,
/// which fixes every tensor's shape and every shape-arithmetic value, gives every float tensor the batch computes
/// a region of one arena (regions of tensors whose lifetimes do not overlap share memory; one arena per
/// concurrently running batch, reused across batches) and turns each node into a kernel over arena pointers:
///   - Conv, by depth K = Cg·kH·kW: K ≤ 16 with stride 1 (depthwise, grouped 1×1, one input channel) as direct
///     shift-and-accumulate loops over zero-bordered planes; otherwise im2col into arena scratch (row segments
///     copied from zero-bordered planes: contiguous for unit column stride, strided otherwise), one sgemm per group,
///     and a scatter that adds the bias and applies a fused ReLU. A BatchNormalization that is the Conv's only
///     reader is folded into its weights and bias (w'_o = w_o·s_o, b'_o = (b_o − μ_o)·s_o + β_o,
///     s_o = γ_o / √(σ²_o + ε)), as onnxruntime does. Cost: the products, plus K·outH·outW copies per sample.
///   - Gemm (bias pre-broadcast, fused ReLU): one sgemm; MatMul with a 2-D constant right operand: one sgemm.
///   - BatchNormalization (per channel, fused ReLU), elementwise unary and binary ops (broadcast strides,
///     innermost axis in a tight loop), MaxPool/AveragePool (windows that tile the input: a row pass then a
///     column pass; otherwise precomputed taps; a Relu right before a MaxPool is applied to the pooled output),
///     GlobalAveragePool, Transpose, Concat, and views (Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout)
///     that only rename an arena region.
///   - Transformer layers (`CPUProgram+Transformer.swift`): LayerNormalization over trailing axes, Softmax over
///     contiguous rows, MatMul of two arena tensors (one sgemm per batch matrix).
///   - Anything else (reductions, Gather, Where, ...) goes through the interpreter on copies of its inputs.
/// The results are the interpreter's up to float rounding (the folded BatchNorm, fused bias and summation order
/// round differently); tests hold both to onnxruntime's outputs. Cost per batch: the arithmetic, no allocation.
final class CPUProgram: @unchecked Sendable {
    /// A float tensor in the arena: a region (views share their source's) and its shape.
    struct Slot {
        let region: Int
        var shape: [Int]
        let layout: Layout
        /// The region's offset in the arena (fixed once compilation has placed every region).
        var offset: Int { layout.offsets[region] }
        var count: Int { shape.reduce(1, *) }
    }

    /// Arena regions: size, and the first and last step that touches each. Regions whose lifetimes do not overlap
    /// share memory, so the arena holds the live tensors of one batch (not all of them): smaller, and warmer in cache.
    final class Layout: @unchecked Sendable {
        var sizes: [Int] = [], births: [Int] = [], deaths: [Int] = [], offsets: [Int] = []
        static let none = Layout()

        /// Places regions largest first at the lowest offset clear of every placed region alive at the same time.
        func place() -> Int {
            offsets = [Int](repeating: 0, count: sizes.count)
            var placed: [Int] = []
            var end = 0
            for r in sizes.indices.sorted(by: { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : births[$0] < births[$1] }) {
                let busy = placed.filter { births[$0] <= deaths[r] && births[r] <= deaths[$0] }.map { (offsets[$0], sizes[$0]) }.sorted { $0.0 < $1.0 }
                var at = 0
                for (o, size) in busy {
                    if at + sizes[r] <= o { break }
                    at = Swift.max(at, o + size)
                }
                offsets[r] = at
                placed.append(r)
                end = Swift.max(end, at + sizes[r])
            }
            return end
        }
    }

    /// An operand: an arena region or a constant owned by the program.
    enum Operand {
        case slot(Slot)
        case constant(UnsafePointer<Float>, [Int])
        var shape: [Int] {
            switch self {
            case .slot(let s): return s.shape
            case .constant(_, let shape): return shape
            }
        }
        func pointer(_ arena: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
            switch self {
            case .slot(let s): return UnsafePointer(arena + s.offset)
            case .constant(let p, _): return p
            }
        }
    }

    typealias Kernel = (UnsafeMutablePointer<Float>) throws -> Void

    /// Convolutions with at most this many products per output value (Cg·kH·kW) run as direct shift-and-accumulate
    /// loops; deeper ones as im2col + sgemm. At 9–16 the gather im2col needs costs as much as the products.
    static let directConvDepth = 16

    let batch: Int
    /// Where the batch's input goes, and where its output appears.
    private(set) var input = Slot(region: 0, shape: [], layout: .none)
    private(set) var output = Slot(region: 0, shape: [], layout: .none)
    private let layout = Layout()
    /// The step being compiled (regions allocated now are born here).
    private var current = -1
    private(set) var kernels: [(op: String, run: Kernel)] = []
    private(set) var arenaCount = 0
    /// The floats all regions would take without sharing.
    var regionFloats: Int { layout.sizes.reduce(0, +) }
    /// Nodes that run through the interpreter (for reports and tests).
    private(set) var interpreted: [String] = []
    private var constants: [UnsafeMutablePointer<Float>] = []
    private var intTables: [UnsafeMutablePointer<Int>] = []
    private let lock = NSLock()
    private var freeArenas: [UnsafeMutablePointer<Float>] = []

    deinit {
        for c in constants { c.deallocate() }
        for t in intTables { t.deallocate() }
        for a in freeArenas { a.deallocate() }
    }

    init(plan: SuffixPlan, batch: Int) throws {
        self.batch = batch
        let model = plan.model
        // 1. Shapes and shape-arithmetic values, from one interpreted batch.
        var values = plan.fixed
        for (k, t) in plan.fixed where model.constants[k] == nil && t.shape.first == 1 && batch > 1 && t.dtype == .float32 {
            values[k] = Tensor(shape: [batch] + t.shape.dropFirst(), floats: Array([[Float]](repeating: t.floats, count: batch).joined()))
        }
        values[plan.start] = Tensor(shape: [batch] + plan.sampleShape, floats: Array([[Float]](repeating: plan.sampleValue, count: batch).joined()))
        var dynamic: Set<String> = [plan.start]
        for n in plan.steps {
            let ins = try n.inputs.map { name -> Tensor? in
                guard !name.isEmpty else { return nil }
                guard let t = values[name] ?? model.constants[name] else { throw HarsanyiError.invalidArgument("node \(n.name): input '\(name)' is missing") }
                return t
            }
            let outs = try ONNXModel.evaluate(n, ins, opset: model.graph.opset)
            let readsData = n.inputs.contains { dynamic.contains($0) && values[$0]?.dtype == .float32 }
            for (name, t) in zip(n.outputs, outs) where !name.isEmpty {
                values[name] = t
                // Integer results of data (not of shapes) change per batch: they live in the arena as floats (exact
                // below 2^24), which every reader accepts (integer inputs are read through asInts).
                if t.dtype == .float32 {
                    dynamic.insert(name)
                } else if readsData && n.op != "Shape" {
                    values[name] = Tensor(shape: t.shape, floats: t.asFloats)
                    dynamic.insert(name)
                }
            }
        }
        // 2. Readers of each tensor (the model output counts as one), for fusion.
        var readers: [String: Int] = [model.outputName: 1]
        for n in plan.steps { for i in n.inputs where !i.isEmpty { readers[i, default: 0] += 1 } }

        var slots: [String: Slot] = [:]
        func allocate(_ shape: [Int]) -> Slot {
            let s = Slot(region: layout.sizes.count, shape: shape, layout: layout)
            layout.sizes.append((s.count + 15) / 16 * 16)  // sizes in whole 64-byte lines
            layout.births.append(current)
            return s
        }
        func constant(_ values: [Float]) -> UnsafePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
            p.initialize(repeating: 0, count: max(values.count, 1))
            values.withUnsafeBufferPointer { if let b = $0.baseAddress { p.update(from: b, count: values.count) } }
            constants.append(p)
            return UnsafePointer(p)
        }
        func operand(_ name: String) throws -> Operand {
            if let s = slots[name] { return .slot(s) }
            guard let t = values[name] ?? model.constants[name] else { throw HarsanyiError.invalidArgument("tensor '\(name)' is missing") }
            return .constant(constant(t.asFloats), t.shape)
        }
        func shape(_ name: String) -> [Int] { values[name]?.shape ?? [] }

        // The interpreter for one node, on copies of its inputs; its first output and every other output that is
        // read (Split's parts) are copied into the arena.
        func fallback(_ n: Node, _ slots: inout [String: Slot]) throws {
            let ins: [(name: String, slot: Slot?, fixed: Tensor?)] = n.inputs.map { name in
                if name.isEmpty { return (name, nil, nil) }
                if let s = slots[name] { return (name, s, nil) }
                return (name, nil, values[name] ?? model.constants[name])
            }
            var outs: [(index: Int, slot: Slot)] = []
            for (k, name) in n.outputs.enumerated() where !name.isEmpty && (k == 0 || readers[name] != nil) {
                let y = allocate(values[name]!.shape)
                slots[name] = y
                outs.append((k, y))
            }
            interpreted.append("\(n.name) (\(n.op))")
            let opset = model.graph.opset
            kernels.append((n.op, { p in
                let tensors: [Tensor?] = ins.map { i in
                    if let s = i.slot { return Tensor(shape: s.shape, floats: Array(UnsafeBufferPointer(start: p + s.offset, count: s.count))) }
                    return i.fixed
                }
                let results = try ONNXModel.evaluate(n, tensors, opset: opset)
                for (k, y) in outs {
                    var r = results[k]
                    if r.dtype == .int64 { r = Tensor(shape: r.shape, floats: r.asFloats) }  // integers of data: as floats
                    guard r.shape == y.shape, r.dtype == .float32 else {
                        throw HarsanyiError.invalidArgument(
                            "node \(n.name): output shape \(r.shape) differs from the planned \(y.shape)")
                    }
                    r.floats.withUnsafeBufferPointer { (p + y.offset).update(from: $0.baseAddress!, count: r.count) }
                }
            }))
        }

        input = allocate([batch] + plan.sampleShape)
        slots[plan.start] = input
        var absorbed = Set<Int>()
        var reluAfterPool = Set<Int>()  // MaxPool steps that take a Relu before them
        let steps = plan.steps
        /// The node right after step i when it is the only reader of step i's output (and that output is not the
        /// model's): a candidate for fusion.
        /// A Clip's bounds when they are constants (attributes before opset 11, constant inputs from 11 on).
        func constantClipBounds(_ c: Node) -> (lo: Float, hi: Float)? {
            if model.graph.opset < 11 { return (c.float("min", -.infinity), c.float("max", .infinity)) }
            var b: [Float] = [-.infinity, .infinity]
            for k in 1...2 {
                guard let name = c.input(k) else { continue }
                guard slots[name] == nil, let t = values[name] ?? model.constants[name], t.count == 1 else { return nil }
                b[k - 1] = t.asFloats[0]
            }
            return (b[0], b[1])
        }
        func soleNext(_ i: Int, _ op: String) -> Node? {
            guard i + 1 < steps.count, let out = steps[i].outputs.first, out != model.outputName, readers[out] == 1 else { return nil }
            let next = steps[i + 1]
            return next.op == op && next.inputs.first == out ? next : nil
        }
        for (i, n) in steps.enumerated() where !absorbed.contains(i) {
            current = i
            guard let outName = n.outputs.first, !outName.isEmpty, let outT = values[outName] else { continue }
            if outT.dtype != .float32 { continue }  // shape arithmetic: constant here
            let readsSlot = n.inputs.contains { slots[$0] != nil }
            if !readsSlot {  // computed from constants only (e.g. tiled prefix values): a constant of the program
                continue
            }
            switch n.op {
            case "Identity", "Dropout", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Cast":
                // A view of its input, unless the input is no arena value, a second output (Dropout's mask) is
                // read, or it is a Cast to a type other than float32 or double (others round or truncate).
                let maskRead = n.outputs.count > 1 && !n.outputs[1].isEmpty && readers[n.outputs[1]] != nil
                let converts = n.op == "Cast" && ![1, 11].contains(n.int("to", 1))
                if slots[n.inputs[0]] == nil || maskRead || converts {
                    try fallback(n, &slots)
                } else {
                    slots[outName] = Slot(region: slots[n.inputs[0]]!.region, shape: outT.shape, layout: layout)
                }
            case "Conv" where slots[n.inputs[0]] != nil && slots[n.inputs[1]] == nil && (n.input(2).map { slots[$0] == nil } ?? true)
                && (3...4).contains(shape(n.inputs[0]).count):
                var w = (values[n.inputs[1]] ?? model.constants[n.inputs[1]])!.asFloats
                let m = shape(n.inputs[1])[0]
                var bias = n.input(2).flatMap { values[$0] ?? model.constants[$0] }?.asFloats ?? [Float](repeating: 0, count: m)
                var last = i
                if let bn = soleNext(i, "BatchNormalization"), bn.inputs.dropFirst().allSatisfy({ slots[$0] == nil }),
                    let p = Optional(bn.inputs.dropFirst().prefix(4).compactMap { values[$0] ?? model.constants[$0] }), p.count == 4,
                    p.allSatisfy({ $0.count == m })
                {
                    let eps = bn.float("epsilon", 1e-5)
                    let gamma = p[0].asFloats, beta = p[1].asFloats, mu = p[2].asFloats, v = p[3].asFloats
                    let per = w.count / max(m, 1)
                    for o in 0..<m {
                        let s = gamma[o] / (v[o] + eps).squareRoot()
                        for k in 0..<per { w[o * per + k] *= s }
                        bias[o] = (bias[o] - mu[o]) * s + beta[o]
                    }
                    last = i + 1
                    absorbed.insert(i + 1)
                }
                // A following Relu or Clip with constant bounds (ReLU6) becomes the conv's epilogue clamp.
                var clamp: (lo: Float, hi: Float)?
                if soleNext(last, "Relu") != nil {
                    clamp = (0, .infinity)
                } else if let c = soleNext(last, "Clip"), let bounds = constantClipBounds(c) {
                    clamp = bounds
                }
                if clamp != nil {
                    absorbed.insert(last + 1)
                    last += 1
                }
                let y = allocate(values[steps[last].outputs[0]]!.shape)
                for j in i...last { slots[steps[j].outputs[0]] = y }
                try conv(n, x: slots[n.inputs[0]]!, weight: constant(w), bias: constant(bias), weightShape: shape(n.inputs[1]), y: y,
                         clamp: clamp, allocate: allocate)
            case "Gemm" where slots[n.inputs[0]] != nil && n.int("transA", 0) == 0 && (n.input(2).map { slots[$0] == nil } ?? true):
                let a = slots[n.inputs[0]]!, b = try operand(n.inputs[1])
                let tB = n.int("transB", 0) != 0
                let m = a.shape[0], k = a.shape[1], nOut = outT.shape[1]
                let alpha = n.float("alpha", 1), beta = n.float("beta", 1)
                var c: UnsafePointer<Float>?
                if let cName = n.input(2), beta != 0, let ct = values[cName] ?? model.constants[cName] {
                    let expanded = try Elementwise.expand(n, ct, [m, nOut]).floats.map { $0 * beta }
                    // The kernel copies m·nOut floats from C (the interpreter run above refused any other C).
                    guard expanded.count == m * nOut else {
                        throw ONNXError.invalid(n.name, "Gemm C of shape \(ct.shape) does not broadcast to [\(m), \(nOut)]")
                    }
                    c = constant(expanded)
                }
                var relu = false
                if soleNext(i, "Relu") != nil { relu = true; absorbed.insert(i + 1) }
                let y = allocate(outT.shape)
                slots[outName] = y
                if relu { slots[steps[i + 1].outputs[0]] = y }
                let ldb = b.shape[1]
                kernels.append(("Gemm", { p in
                    let out = p + y.offset
                    if let c { out.update(from: c, count: m * nOut) }
                    Linear.sgemm(false, tB, m: m, n: nOut, k: k, alpha: alpha, UnsafePointer(p + a.offset), lda: k, b.pointer(p), ldb: ldb,
                                 beta: c == nil ? 0 : 1, out, ldc: nOut)
                    if relu { for j in 0..<(m * nOut) { out[j] = Swift.max(out[j], 0) } }
                }))
            case "MatMul" where slots[n.inputs[0]] != nil && slots[n.inputs[1]] == nil && shape(n.inputs[1]).count == 2
                && shape(n.inputs[0]).count >= 2:
                let a = slots[n.inputs[0]]!, b = try operand(n.inputs[1])
                let k = b.shape[0], nOut = b.shape[1], rows = a.count / max(k, 1)
                let y = allocate(outT.shape)

                slots[outName] = y
                kernels.append(("MatMul", { p in
                    Linear.sgemm(false, false, m: rows, n: nOut, k: k, alpha: 1, UnsafePointer(p + a.offset), lda: k, b.pointer(p), ldb: nOut,
                                 beta: 0, p + y.offset, ldc: nOut)
                }))
            case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip",
                "Pow" where n.inputs.count == 2 && slots[n.inputs[1]] == nil
                    && (values[n.inputs[1]] ?? model.constants[n.inputs[1]])?.count == 1
                    && slots[n.inputs[0]]?.count == outT.count,
                _ where Operators.table[n.op]?.pointwise != nil:
                guard let x = slots[n.inputs[0]], n.op != "Clip" || values[n.inputs[0]]?.dtype == .float32 else {
                    try fallback(n, &slots)
                    continue
                }
                if n.op == "Relu", let pool = soleNext(i, "MaxPool"), pool.outputs.count == 1 || pool.outputs[1].isEmpty,
                    (3...4).contains(x.shape.count)
                {
                    // max(relu(x)) = relu(max(x)): the pool reads x and clamps its (smaller) output instead.
                    slots[outName] = Slot(region: x.region, shape: outT.shape, layout: layout)
                    reluAfterPool.insert(i + 1)
                    continue
                }
                let y = allocate(outT.shape)
                slots[outName] = y
                let count = y.count
                let f: (Float) -> Float
                switch n.op {
                case "Relu": f = { Swift.max($0, 0) }
                case "LeakyRelu":
                    let alpha = n.float("alpha", 0.01)
                    f = { $0 >= 0 ? $0 : alpha * $0 }
                case "Sigmoid": f = Elementwise.sigmoid
                case "Tanh": f = { Foundation.tanh($0) }
                case "Pow":  // a constant exponent (GPT-2's GELU, RMSNorm): as the reference computes it
                    let e = (values[n.inputs[1]] ?? model.constants[n.inputs[1]])!.asFloats[0]
                    f = e == 2 ? { $0 * $0 } : e == 1 ? { $0 } : { Float(Foundation.pow(Double($0), Double(e))) }
                case "Clip":
                    let opset = model.graph.opset
                    let lo = opset >= 11 ? n.input(1).flatMap { values[$0] ?? model.constants[$0] }?.asFloats.first ?? -.infinity : n.float("min", -.infinity)
                    let hi = opset >= 11 ? n.input(2).flatMap { values[$0] ?? model.constants[$0] }?.asFloats.first ?? .infinity : n.float("max", .infinity)
                    f = { Swift.min(Swift.max($0, lo), hi) }
                default:
                    // Any pointwise operator of the table (Exp, Erf, Gelu, HardSwish, ...): its own scalar function.
                    guard let g = Operators.table[n.op]?.pointwise?(n) else { try fallback(n, &slots); continue }
                    f = g
                }
                if n.op == "Relu" {
                    kernels.append(("Relu", { p in
                        let s = p + x.offset, d = p + y.offset
                        for j in 0..<count { d[j] = Swift.max(s[j], 0) }
                    }))
                } else if n.op == "Clip", let (lo, hi) = constantClipBounds(n) {
                    // A tight loop: calling `f` per element costs more than the clamp itself (ReLU6 in MobileNets).
                    kernels.append(("Clip", { p in
                        let s = p + x.offset, d = p + y.offset
                        for j in 0..<count { d[j] = Swift.min(Swift.max(s[j], lo), hi) }
                    }))
                } else {
                    kernels.append((n.op, { p in
                        let s = p + x.offset, d = p + y.offset
                        for j in 0..<count { d[j] = f(s[j]) }
                    }))
                }
            case "Add", "Sub", "Mul", "Div":
                let a = try operand(n.inputs[0]), b = try operand(n.inputs[1])
                let y = allocate(outT.shape)
                slots[outName] = y
                try binary(n.op, a, b, y)
            case "MaxPool", "AveragePool":
                guard slots[n.inputs[0]] != nil, (3...4).contains(shape(n.inputs[0]).count), n.outputs.count == 1 || n.outputs[1].isEmpty else {
                    try fallback(n, &slots)
                    continue
                }
                let y = allocate(outT.shape)
                slots[outName] = y
                try pool(n, x: slots[n.inputs[0]]!, y: y, reluOutput: reluAfterPool.contains(i), allocate: allocate)
            case "BatchNormalization":
                let params = n.inputs.dropFirst().prefix(4).compactMap { slots[$0] == nil ? values[$0] ?? model.constants[$0] : nil }
                guard let x = slots[n.inputs[0]], x.shape.count >= 2, params.count == 4, params.allSatisfy({ $0.count == x.shape[1] }),
                    n.outputs.dropFirst().allSatisfy({ $0.isEmpty || readers[$0] == nil })
                else {
                    try fallback(n, &slots)
                    continue
                }
                // y = (x − μ)·a + β with a = γ / √(σ² + ε), per channel (the interpreter's order of operations).
                let eps = n.float("epsilon", 1e-5), C = x.shape[1], inner = x.shape[2...].reduce(1, *), outer = x.count / max(C * inner, 1)
                let gamma = params[0].asFloats, beta = params[1].asFloats, mu = params[2].asFloats, v = params[3].asFloats
                let scale = constantFloats((0..<C).map { gamma[$0] / (v[$0] + eps).squareRoot() }), shift = constantFloats(beta), mean = constantFloats(mu)
                var relu = false
                if soleNext(i, "Relu") != nil { relu = true; absorbed.insert(i + 1) }
                let y = allocate(outT.shape)
                slots[outName] = y
                if relu { slots[steps[i + 1].outputs[0]] = y }
                kernels.append(("BatchNormalization", { p in
                    let s = UnsafePointer(p + x.offset), d = p + y.offset
                    for o in 0..<outer {
                        for ch in 0..<C {
                            let base = (o &* C &+ ch) &* inner, a = scale[ch], t = shift[ch], mu = mean[ch]
                            if relu {
                                for j in 0..<inner { d[base &+ j] = Swift.max((s[base &+ j] - mu) * a + t, 0) }
                            } else {
                                for j in 0..<inner { d[base &+ j] = (s[base &+ j] - mu) * a + t }
                            }
                        }
                    }
                }))
            case "Transpose":
                guard let x = slots[n.inputs[0]] else { try fallback(n, &slots); continue }
                let rank = x.shape.count
                let perm = n.ints("perm") ?? Array((0..<rank).reversed())
                guard perm.sorted() == Array(0..<rank) else { try fallback(n, &slots); continue }
                let y = allocate(outT.shape)
                slots[outName] = y
                // Output order, input strides permuted; merged where neighbours stay contiguous; innermost run copied.
                let src = strides(x.shape)
                let (dims, st) = ShapeRules.mergeAxes(perm.map { x.shape[$0] }, [perm.map { src[$0] }, strides(perm.map { x.shape[$0] })])
                let ss = st[0], last = dims.count - 1, inner = dims[last], step = ss[last], count = y.count
                kernels.append(("Transpose", { p in
                    let s = UnsafePointer(p + x.offset), d = p + y.offset
                    var idx = [Int](repeating: 0, count: dims.count)
                    var off = 0, o = 0
                    while o < count {
                        let from = s + off, to = d + o
                        if step == 1 { to.update(from: from, count: inner) } else { for j in 0..<inner { to[j] = from[j &* step] } }
                        o += inner
                        var dd = last - 1
                        while dd >= 0 {
                            idx[dd] += 1
                            off += ss[dd]
                            if idx[dd] < dims[dd] { break }
                            off -= ss[dd] * dims[dd]
                            idx[dd] = 0
                            dd -= 1
                        }
                    }
                }))
            case "GlobalAveragePool" where slots[n.inputs[0]] != nil:
                let x = slots[n.inputs[0]]!
                let y = allocate(outT.shape)
                slots[outName] = y
                let planes = y.count, size = x.count / max(planes, 1)
                kernels.append(("GlobalAveragePool", { p in
                    let s = p + x.offset, d = p + y.offset
                    for c in 0..<planes {
                        var acc: Float = 0
                        for j in 0..<size { acc += s[c * size + j] }
                        d[c] = acc / Float(size)
                    }
                }))
            case "Concat" where n.inputs.allSatisfy({ values[$0]?.dtype == .float32 || model.constants[$0]?.dtype == .float32 }):
                let parts = try n.inputs.filter { !$0.isEmpty }.map(operand)
                let axis = try normalizeAxis(n.int("axis", 0), rank: outT.rank, node: n.name)
                let y = allocate(outT.shape)
                slots[outName] = y
                let outer = outT.shape.prefix(axis).reduce(1, *)
                let inners = parts.map { $0.shape[axis...].reduce(1, *) }, total = inners.reduce(0, +)
                kernels.append(("Concat", { p in
                    let d = p + y.offset
                    var at = 0
                    for (part, inner) in zip(parts, inners) {
                        let s = part.pointer(p)
                        for o in 0..<outer { (d + o * total + at).update(from: s + o * inner, count: inner) }
                        at += inner
                    }
                }))
            case "Slice" where Self.movesArenaData(n, slots), "Split" where Self.movesArenaData(n, slots),
                "Expand" where Self.movesArenaData(n, slots), "Tile" where Self.movesArenaData(n, slots),
                "Gather" where Self.movesArenaData(n, slots):
                // Data movement by a table made once: the reference run on the input's flat indices (int64 data
                // through the same `take`) says where each output element comes from.
                let x = slots[n.inputs[0]]!
                var ins: [Tensor?] = n.inputs.map { $0.isEmpty ? nil : values[$0] ?? model.constants[$0] }
                ins[0] = Tensor(shape: x.shape, ints: (0..<Int64(x.count)).map { $0 })
                let outs = try ONNXModel.evaluate(n, ins, opset: model.graph.opset)
                for (k, name) in n.outputs.enumerated() where !name.isEmpty && (k == 0 || readers[name] != nil) {
                    let table = constantInts(outs[k].ints.map { Int($0) })
                    let y = allocate(outs[k].shape)
                    slots[name] = y
                    let count = y.count
                    kernels.append((n.op, { p in
                        let s = p + x.offset, d = p + y.offset
                        for j in 0..<count { d[j] = s[table[j]] }
                    }))
                }
            case "ReduceMean" where slots[n.inputs[0]] != nil:
                let rank = shape(n.inputs[0]).count, opset = model.graph.opset
                let listed = opset >= 18 ? n.input(1).flatMap { values[$0] ?? model.constants[$0] }?.asInts : n.ints("axes")
                guard let axes = listed, axes.count == 1, (try? normalizeAxis(axes[0], rank: rank, node: n.name)) == rank - 1
                else {
                    try fallback(n, &slots)
                    continue
                }
                let x = slots[n.inputs[0]]!, y = allocate(outT.shape)
                slots[outName] = y
                let width = x.shape.last ?? 1, rows = y.count
                kernels.append(("ReduceMean", { p in
                    Self.rowMeanKernel(x: p + x.offset, y: p + y.offset, rows: rows, n: width)
                }))
            case "MatMul" where slots[n.inputs[0]] != nil && slots[n.inputs[1]] != nil:
                guard let (g, m, k, cols, shared) = Self.batchedMatMulShape(shape(n.inputs[0]), shape(n.inputs[1]))
                else {
                    try fallback(n, &slots)
                    continue
                }
                let a = slots[n.inputs[0]]!, b = slots[n.inputs[1]]!
                let y = allocate(outT.shape)
                slots[outName] = y
                kernels.append(("MatMul", { p in
                    Self.batchedMatMulKernel(
                        a: p + a.offset, b: p + b.offset, y: p + y.offset, batches: g, m: m, k: k, n: cols,
                        sharedB: shared)
                }))
            case "Softmax" where slots[n.inputs[0]] != nil, "LogSoftmax" where slots[n.inputs[0]] != nil:
                // Rows are contiguous when the axis is the last (from opset 13) or always (before: trailing axes).
                let opset = model.graph.opset, rank = outT.rank
                let axis = try normalizeAxis(n.int("axis", opset >= 13 ? -1 : 1), rank: rank, node: n.name)
                guard opset < 13 || axis == rank - 1 else {
                    try fallback(n, &slots)
                    continue
                }
                let x = slots[n.inputs[0]]!, y = allocate(outT.shape)
                slots[outName] = y
                let width = outT.shape[axis...].reduce(1, *), rows = outT.count / max(width, 1)
                let log = n.op == "LogSoftmax"
                kernels.append((n.op, { p in
                    Self.softmaxKernel(x: p + x.offset, y: p + y.offset, rows: rows, n: width, log: log)
                }))
            case "LayerNormalization" where slots[n.inputs[0]] != nil:
                let axis = try normalizeAxis(n.int("axis", -1), rank: outT.rank, node: n.name)
                let block = outT.shape[axis...].reduce(1, *)
                let scale = n.input(1).flatMap { slots[$0] == nil ? values[$0] ?? model.constants[$0] : nil }
                let bias = n.input(2).map { slots[$0] == nil ? values[$0] ?? model.constants[$0] : nil }
                let statsRead = n.outputs.dropFirst().contains { !$0.isEmpty && readers[$0] != nil }
                guard let scale, scale.count == block, bias.map({ $0?.count == block }) ?? true, !statsRead else {
                    try fallback(n, &slots)
                    continue
                }
                let x = slots[n.inputs[0]]!, y = allocate(outT.shape)
                slots[outName] = y
                let g = constantFloats(scale.asFloats), beta = (bias ?? nil).map { constantFloats($0.asFloats) }
                let eps = Double(n.float("epsilon", 1e-5)), rows = outT.count / max(block, 1)
                kernels.append(("LayerNormalization", { p in
                    Self.layerNormKernel(
                        x: p + x.offset, y: p + y.offset, rows: rows, block: block, scale: g, bias: beta, epsilon: eps)
                }))
            default:
                try fallback(n, &slots)
            }
        }
        guard let out = slots[model.outputName] else {
            throw HarsanyiError.invalidArgument("output '\(model.outputName)' was not computed")
        }
        output = out
        // Lifetimes: a region lives from the step that makes it to the last step reading any name of it (the
        // output to the end); scratch regions live in their own step only.
        layout.deaths = layout.births
        for (j, n) in steps.enumerated() {
            for name in n.inputs { if let r = slots[name]?.region { layout.deaths[r] = max(layout.deaths[r], j) } }
        }
        layout.deaths[out.region] = Int.max
        arenaCount = max(layout.place(), 16)

    }

    // MARK: kernels

    /// Conv (1-D, 2-D) as im2col + one sgemm per group + scatter with bias and optional ReLU.
    private func conv(_ node: Node, x: Slot, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, weightShape: [Int], y: Slot,
                      clamp: (lo: Float, hi: Float)?, allocate: ([Int]) -> Slot) throws {
        let (lo, hi) = clamp ?? (-.infinity, .infinity)
        let relu = clamp != nil
        let g = try WindowGeometry(node, input: x.shape, kernel: Array(weightShape.dropFirst(2)))
        let (inH, inW, kH, kW, sH, sW, dH, dW) = (g.inH, g.inW, g.kH, g.kW, g.sH, g.sW, g.dH, g.dW)
        let (outH, outW, padT, padL) = (g.outH, g.outW, g.padTop, g.padLeft)
        let group = node.int("group", 1)
        let nB = x.shape[0], c = x.shape[1], m = weightShape[0], cg = weightShape[1]
        let mg = m / group, kk = cg * kH * kW, cols = outH * outW, wide = nB * cols
        guard y.count == nB * m * cols else { throw ONNXError.invalid(node.name, "Conv output shape \(y.shape) differs from the plan") }
        if kk <= Self.directConvDepth {
            // Few products per output (depthwise, small grouped 1×1, one input channel): each input plane is copied
            // once into a zero-bordered plane of width Wp and height Hp. Stride 1: the output is computed on rows of
            // width Wp (the extra columns are dropped), so that each tap (ky, kx) is one long contiguous
            // multiply-add: acc[q] += w · P[q + ky·dH·Wp + kx·dW] for q < outH·Wp. With a stride (depthwise stride 2
            // in MobileNets): per output row, each tap is a strided multiply-add over the row (im2col would run one
            // sgemm of a single row per group).
            let unit = sH == 1 && sW == 1
            let wp = Swift.max(padL + inW, (outW - 1) * sW + (kW - 1) * dW + 1)
            let hp = Swift.max(padT + inH, (outH - 1) * sH + (kH - 1) * dH + 1) + (unit ? 1 : 0)
            let planeP = hp * wp, run = unit ? outH * wp : outW
            let padded = allocate([cg * planeP]), acc = allocate([run])
            kernels.append((unit ? "Conv (direct)" : "Conv (direct, strided)", { p in
                let xp = UnsafePointer(p + x.offset), op = p + y.offset, pp = p + padded.offset, ap = p + acc.offset
                pp.update(repeating: 0, count: cg &* planeP)
                for b in 0..<nB {
                    for g in 0..<group {
                        fillPadded(pp, from: xp + (b &* c &+ g &* cg) &* inH &* inW, planes: cg, inH, inW, planeP, wp, padT, padL)
                        for o in 0..<mg {
                            let oc = g &* mg &+ o, wo = weight + oc &* kk, bo = bias[oc]
                            let d = op + (b &* m &+ oc) &* cols
                            if unit {
                                for q in 0..<run { ap[q] = bo }
                                for ci in 0..<cg {
                                    for ky in 0..<kH {
                                        for kx in 0..<kW {
                                            let w = wo[(ci &* kH &+ ky) &* kW &+ kx]
                                            let from = UnsafePointer(pp + (ci &* planeP &+ ky &* dH &* wp &+ kx &* dW))
                                            for q in 0..<run { ap[q] += w * from[q] }
                                        }
                                    }
                                }
                                for oy in 0..<outH {
                                    let row = ap + oy &* wp, to = d + oy &* outW
                                    if relu {
                                        for ox in 0..<outW { to[ox] = Swift.min(Swift.max(row[ox], lo), hi) }
                                    } else {
                                        for ox in 0..<outW { to[ox] = row[ox] }
                                    }
                                }
                                continue
                            }
                            for oy in 0..<outH {
                                for ox in 0..<outW { ap[ox] = bo }
                                for ci in 0..<cg {
                                    for ky in 0..<kH {
                                        let rowBase = ci &* planeP &+ (oy &* sH &+ ky &* dH) &* wp
                                        for kx in 0..<kW {
                                            let w = wo[(ci &* kH &+ ky) &* kW &+ kx], from = UnsafePointer(pp + (rowBase &+ kx &* dW))
                                            for ox in 0..<outW { ap[ox] += w * from[ox &* sW] }
                                        }
                                    }
                                }
                                let to = d + oy &* outW
                                for ox in 0..<outW { to[ox] = relu ? Swift.min(Swift.max(ap[ox], lo), hi) : ap[ox] }
                            }
                        }
                    }
                }
            }))
            return
        }
        let col = allocate([kk * wide]), tmp = allocate([mg * wide])
        /// tmp [mg, nB·cols] of group g → output [nB, m, cols], plus bias and the fused ReLU.
        func scatter(_ g: Int, _ tp: UnsafeMutablePointer<Float>, _ op: UnsafeMutablePointer<Float>) {
            for o in 0..<mg {
                let bo = bias[g * mg + o]
                for b in 0..<nB {
                    let d = op + (b * m + g * mg + o) * cols, s = tp + o * wide + b * cols
                    if relu {
                        for j in 0..<cols { d[j] = Swift.min(Swift.max(s[j] + bo, lo), hi) }
                    } else {
                        for j in 0..<cols { d[j] = s[j] + bo }
                    }
                }
            }
        }
        // Each sample's channel group is copied into a zero-bordered block of planes (width wp, height hp), and
        // every im2col row segment (k, oy) is then outW floats at a precomputed offset with stride sW: one
        // contiguous run copied four at a time for unit column stride, a strided copy otherwise; no bounds
        // tests in either.
        let wp = Swift.max(padL + inW, (outW - 1) * sW + (kW - 1) * dW + 1), hp = Swift.max(padT + inH, (outH - 1) * sH + (kH - 1) * dH + 1)
        let planeP = hp * wp
        let padded = allocate([cg * planeP])
        var segments = [Int](repeating: 0, count: kk * outH)
        for ci in 0..<cg {
            for ky in 0..<kH {
                for kx in 0..<kW {
                    for oy in 0..<outH { segments[((ci * kH + ky) * kW + kx) * outH + oy] = ci * planeP + (oy * sH + ky * dH) * wp + kx * dW }
                }
            }
        }
        let seg = constantInts(segments)
        kernels.append(("Conv (im2col)", { p in
            let cp = p + col.offset, tp = p + tmp.offset, xp = UnsafePointer(p + x.offset), op = p + y.offset, pp = p + padded.offset
            pp.update(repeating: 0, count: cg &* planeP)
            for g in 0..<group {
                for b in 0..<nB {
                    fillPadded(pp, from: xp + (b &* c &+ g &* cg) &* inH &* inW, planes: cg, inH, inW, planeP, wp, padT, padL)
                    for k in 0..<kk {
                        let d = cp + (k &* wide &+ b &* cols), ks = seg + k &* outH
                        if sW == 1 {
                            for oy in 0..<outH { copyRow(d + oy &* outW, UnsafePointer(pp + ks[oy]), outW) }
                        } else {
                            for oy in 0..<outH {
                                let to = d + oy &* outW, from = pp + ks[oy]
                                for ox in 0..<outW { to[ox] = from[ox &* sW] }
                            }
                        }
                    }
                }
                Linear.sgemm(false, false, m: mg, n: wide, k: kk, alpha: 1, weight + g * mg * kk, lda: kk, UnsafePointer(cp), ldb: wide, beta: 0,
                             tp, ldc: wide)
                scatter(g, tp, op)
            }
        }))
    }

    /// Add, Sub, Mul, Div with numpy broadcasting: merged axes, innermost in a tight loop.
    private func binary(_ op: String, _ a: Operand, _ b: Operand, _ y: Slot) throws {
        let shape = y.shape
        let (dims, st) = ShapeRules.mergeAxes(shape, [Elementwise.broadcastStrides(a.shape, to: shape), Elementwise.broadcastStrides(b.shape, to: shape)])
        let sa = st[0], sb = st[1]
        let last = dims.count - 1, inner = dims[last], ia = sa[last], ib = sb[last], count = y.count
        let code = ["Add": 0, "Sub": 1, "Mul": 2, "Div": 3][op]!
        kernels.append((op, { p in
            let x = a.pointer(p), z = b.pointer(p), d = p + y.offset
            var idx = [Int](repeating: 0, count: dims.count)
            var offA = 0, offB = 0, o = 0
            while o < count {
                let u = x + offA, v = z + offB, w = d + o
                switch code {
                case 0: for j in 0..<inner { w[j] = u[j * ia] + v[j * ib] }
                case 1: for j in 0..<inner { w[j] = u[j * ia] - v[j * ib] }
                case 2: for j in 0..<inner { w[j] = u[j * ia] * v[j * ib] }
                default: for j in 0..<inner { w[j] = u[j * ia] / v[j * ib] }
                }
                o += inner
                var dd = last - 1
                while dd >= 0 {
                    idx[dd] += 1
                    offA += sa[dd]
                    offB += sb[dd]
                    if idx[dd] < dims[dd] { break }
                    offA -= sa[dd] * dims[dd]
                    offB -= sb[dd] * dims[dd]
                    idx[dd] = 0
                    dd -= 1
                }
            }
        }))
    }

    /// MaxPool / AveragePool (1-D, 2-D): per output row and column the input taps, precomputed.
    /// `reluOutput`: the pool's input is a Relu folded away (MaxPool only): the pooled values are clamped at 0,
    /// except where a window holds no input element (max over nothing stays −∞, as max(relu(x)) would).
    private func pool(_ node: Node, x: Slot, y: Slot, reluOutput: Bool = false, allocate: ([Int]) -> Slot) throws {
        defer {
            if reluOutput { clampPooled(y, windows: lastWindowCounts) }
        }
        let isMax = node.op == "MaxPool"
        guard let k = node.ints("kernel_shape") else { throw ONNXError.invalid(node.name, "\(node.op) needs kernel_shape") }
        if node.outputs.count > 1, !node.outputs[1].isEmpty { throw ONNXError.unsupported(node.name, "MaxPool indices output") }
        let ceil = node.int("ceil_mode", 0) != 0, includePad = node.int("count_include_pad", 0) != 0
        let planes = x.shape[0] * x.shape[1], spatial = x.shape.count - 2
        let g = try WindowGeometry(node, input: x.shape, kernel: k, ceil: ceil)
        let (inH, inW, kH, kW, sH, sW, dH, dW) = (g.inH, g.inW, g.kH, g.kW, g.sH, g.sW, g.dH, g.dW)
        let (outH, outW, padT, padL) = (g.outH, g.outW, g.padTop, g.padLeft)
        let (pHe, pWe) = (g.padBottom, g.padRight)
        guard y.count == planes * outH * outW else { throw ONNXError.invalid(node.name, "\(node.op) output shape \(y.shape) differs from the plan") }
        // Taps per output row (input row offsets) and column (input columns), flattened with start indices.
        func taps(_ outs: Int, _ stride: Int, _ pad: Int, _ k: Int, _ dil: Int, _ input: Int, _ padEnd: Int, scale: Int) -> ([Int], [Int], [Int]) {
            var list: [Int] = [], starts: [Int] = [0], padded: [Int] = []
            for o in 0..<outs {
                var count = 0
                for t in 0..<k {
                    let i = o * stride - pad + t * dil
                    if i >= 0 && i < input { list.append(i * scale) }
                    if i >= -pad && i < input + padEnd { count += 1 }
                }
                starts.append(list.count)
                padded.append(count)
            }
            return (list, starts, padded)
        }
        let (rowTaps, rowStart, rowPadded) = taps(outH, sH, padT, kH, dH, inH, spatial == 2 ? pHe : 0, scale: inW)
        let (colTaps, colStart, colPadded) = taps(outW, sW, padL, kW, dW, inW, pWe, scale: 1)
        lastWindowCounts = (0..<(outH * outW)).map { (rowStart[$0 / outW + 1] - rowStart[$0 / outW]) * (colStart[$0 % outW + 1] - colStart[$0 % outW]) }
        var divisor = [Float](repeating: 1, count: outH * outW)
        for oy in 0..<outH {
            for ox in 0..<outW {
                let n = includePad ? rowPadded[oy] * colPadded[ox] : (rowStart[oy + 1] - rowStart[oy]) * (colStart[ox + 1] - colStart[ox])
                divisor[oy * outW + ox] = Float(Swift.max(n, 1))
            }
        }
        let plane = inH * inW, outPlane = outH * outW
        // Every window inside the input (no padding reached, no dilation): direct loops, no tap tables.
        let full = dH == 1 && dW == 1 && (0..<outH).allSatisfy { rowStart[$0 + 1] - rowStart[$0] == kH && rowTaps[rowStart[$0]] == $0 * sH * inW }
            && (0..<outW).allSatisfy { colStart[$0 + 1] - colStart[$0] == kW && colTaps[colStart[$0]] == $0 * sW }
        let area = Float(kH * kW)
        if full && kH >= 1 && kW >= 1 && sH == kH && sW == kW && inH == outH * kH && inW == outW * kW {
            // Windows tile the input exactly (the usual 2×2 stride-2 pool): reduce each band of kH rows to one
            // row (contiguous, vectorisable), then each run of kW neighbours; both walk the whole batch at once.
            let bands = planes * outH, band = allocate([bands * inW])
            kernels.append((node.op, { p in
                let s = UnsafePointer(p + x.offset), t = p + band.offset, d = p + y.offset
                for r in 0..<bands {
                    let src = s + r &* kH &* inW, dst = t + r &* inW
                    for i in 0..<inW { dst[i] = src[i] }
                    for ky in 1..<kH {
                        let row = src + ky &* inW
                        if isMax { for i in 0..<inW { dst[i] = Swift.max(dst[i], row[i]) } } else { for i in 0..<inW { dst[i] += row[i] } }
                    }
                }
                let outs = bands * outW
                if kW == 2 {
                    if isMax { for i in 0..<outs { d[i] = Swift.max(t[2 &* i], t[2 &* i &+ 1]) } } else { for i in 0..<outs { d[i] = (t[2 &* i] + t[2 &* i &+ 1]) / area } }
                } else {
                    for i in 0..<outs {
                        var acc = t[i &* kW]
                        for kx in 1..<kW { acc = isMax ? Swift.max(acc, t[i &* kW &+ kx]) : acc + t[i &* kW &+ kx] }
                        d[i] = isMax ? acc : acc / area
                    }
                }
            }))
            return
        }
        if full {
            kernels.append((node.op, { p in
                for c in 0..<planes {
                    let s = UnsafePointer(p + x.offset + c * plane), d = p + y.offset + c * outPlane
                    for oy in 0..<outH {
                        for ox in 0..<outW {
                            let w = s + oy * sH * inW + ox * sW
                            var acc: Float = isMax ? -.infinity : 0
                            for ky in 0..<kH {
                                for kx in 0..<kW {
                                    let v = w[ky * inW + kx]
                                    acc = isMax ? Swift.max(acc, v) : acc + v
                                }
                            }
                            d[oy * outW + ox] = isMax ? acc : acc / area
                        }
                    }
                }
            }))
            return
        }
        let tables = constantInts(rowTaps + rowStart + colTaps + colStart), div = constantFloats(divisor)
        let rsOff = rowTaps.count, ctOff = rsOff + rowStart.count, csOff = ctOff + colTaps.count
        kernels.append((node.op, { p in
            let rt = tables, rs = tables + rsOff, ct = tables + ctOff, cs = tables + csOff
            for c in 0..<planes {
                let s = UnsafePointer(p + x.offset + c * plane), d = p + y.offset + c * outPlane
                for oy in 0..<outH {
                    let r0 = rs[oy], r1 = rs[oy + 1]
                    for ox in 0..<outW {
                        let c0 = cs[ox], c1 = cs[ox + 1]
                        var acc: Float = isMax ? -.infinity : 0
                        for r in r0..<r1 {
                            let line = s + rt[r]
                            for q in c0..<c1 {
                                let v = line[ct[q]]
                                acc = isMax ? Swift.max(acc, v) : acc + v
                            }
                        }
                        d[oy * outW + ox] = isMax ? acc : acc / div[oy * outW + ox]
                    }
                }
            }
        }))
    }

    /// Window sizes (input elements per output position) of the pool compiled last.
    private var lastWindowCounts: [Int] = []

    /// ReLU on a pool's output, skipping positions whose window is empty.
    private func clampPooled(_ y: Slot, windows: [Int]) {
        let count = y.count
        if windows.allSatisfy({ $0 > 0 }) {
            kernels.append(("MaxPool", { p in
                let d = p + y.offset
                for j in 0..<count { d[j] = Swift.max(d[j], 0) }
            }))
            return
        }
        let keep = constantFloats(windows.map { $0 > 0 ? 0 : -.infinity }), plane = windows.count
        kernels.append(("MaxPool", { p in
            let d = p + y.offset
            for j in 0..<count { d[j] = Swift.max(d[j], keep[j % plane]) }
        }))
    }

    /// Constant tables owned by the program (freed with it).
    private func constantInts(_ v: [Int]) -> UnsafePointer<Int> {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: max(v.count, 1))
        p.initialize(repeating: 0, count: max(v.count, 1))
        for (i, x) in v.enumerated() { p[i] = x }
        intTables.append(p)
        return UnsafePointer(p)
    }

    private func constantFloats(_ v: [Float]) -> UnsafePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(v.count, 1))
        p.initialize(repeating: 0, count: max(v.count, 1))
        for (i, x) in v.enumerated() { p[i] = x }
        constants.append(p)
        return UnsafePointer(p)
    }

    // MARK: running

    /// Runs one batch: `fill` writes the batch's input (the start tensor, `input.count` floats) into the arena;
    /// returns the output tensor.
    func run(fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> Tensor {
        let arena = acquire()
        defer { release(arena) }
        try fill(UnsafeMutableBufferPointer(start: arena + input.offset, count: input.count))
        for k in kernels {
            if OperatorProfile.enabled {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try k.run(arena)
                OperatorProfile.add(k.op, DispatchTime.now().uptimeNanoseconds - t0)
            } else {
                try k.run(arena)
            }
        }
        return Tensor(shape: output.shape, floats: Array(UnsafeBufferPointer(start: arena + output.offset, count: output.count)))
    }

    private func acquire() -> UnsafeMutablePointer<Float> {
        lock.lock()
        if let a = freeArenas.popLast() {
            lock.unlock()
            return a
        }
        lock.unlock()
        let a = UnsafeMutablePointer<Float>.allocate(capacity: arenaCount)
        a.initialize(repeating: 0, count: arenaCount)
        return a
    }

    private func release(_ a: UnsafeMutablePointer<Float>) {
        lock.lock()
        freeArenas.append(a)
        lock.unlock()
    }
}

/// Copies n floats, four at a time (rows of small feature maps: a call to memmove would cost more than the copy).
@inline(__always)
func copyRow(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i &+ 4 <= n {
        UnsafeMutableRawPointer(d + i).storeBytes(of: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
        i &+= 4
    }
    while i < n {
        d[i] = s[i]
        i &+= 1
    }
}

/// Copies `planes` input planes (inH × inW each, contiguous from `src`) into zero-bordered planes of `planeP`
/// floats and row width `wp` at `pp`, each image at row padT, column padL; the borders are left as they are
/// (zeroed once per run by the caller).
@inline(__always)
func fillPadded(_ pp: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, planes: Int, _ inH: Int, _ inW: Int, _ planeP: Int, _ wp: Int,
                _ padT: Int, _ padL: Int) {
    for ci in 0..<planes {
        for iy in 0..<inH {
            let from: Int = (ci &* inH &+ iy) &* inW
            let to: Int = ci &* planeP &+ (iy &+ padT) &* wp &+ padL
            copyRow(pp + to, src + from, inW)
        }
    }
}
