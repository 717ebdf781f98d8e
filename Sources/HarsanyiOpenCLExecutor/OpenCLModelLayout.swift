import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiOpenCL

/// Device kernels for normalisations over rows and for operators that only move data (Kernels/nn_layout.cl).
extension Planner {
    /// Work items per row of `normalize_rows` (NORM_LOCAL in nn_layout.cl).
    static let normLocal = 64

    /// Operators whose output values are input values (moved, repeated or dropped). Resize and Upsample only in
    /// nearest mode, Pad only in modes that copy (reflect, edge, wrap).
    static let movesData: Set<String> = ["Slice", "Split", "Expand", "Tile", "Gather", "Resize", "Upsample", "Pad"]

    static var layoutOps: [String: DeviceKernel] {
        var t: [String: DeviceKernel] = [:]
        for name in movesData { t[name] = { p, n, _ in try p.indexCopy(n) } }
        t["LayerNormalization"] = { try $0.normalize($1, $2) }
        t["InstanceNormalization"] = { try $0.normalize($1, $2) }
        return t
    }

    /// LayerNormalization (mode 0: scale and bias per position of the normalised block, broadcast here once) and
    /// InstanceNormalization (mode 1: per channel). Parameters must be constants.
    func normalize(_ n: Node, _ out: String) throws {
        let x = try device(n, 0)
        guard let scale = try host(n, 1, "\(n.op) scale") else { throw invalid(n, "\(n.op) needs a scale") }
        let bias = try host(n, 2, "\(n.op) bias")
        let layer = n.op == "LayerNormalization"
        var block: Int
        var channels = 0
        var s = scale.asFloats
        var b = bias?.asFloats
        if layer {
            let axis = try self.axis(n, n.int("axis", -1), rank: x.shape.count)
            let blockShape = Array(x.shape[axis...])
            block = blockShape.reduce(1, *)
            func expand(_ t: Tensor) throws -> [Float] {
                guard ShapeRules.broadcastShape(blockShape, t.shape) == blockShape else {
                    throw invalid(n, "LayerNormalization parameter \(t.shape) does not broadcast to \(blockShape)")
                }
                let st = ShapeRules.broadcastStrides(t.shape, to: blockShape)
                let inner = strides(blockShape)
                let f = t.asFloats
                return (0..<block).map { i in
                    f[blockShape.indices.reduce(0) { $0 + (i / inner[$1]) % blockShape[$1] * st[$1] }]
                }
            }
            s = try expand(scale)
            b = try bias.map(expand)
        } else {
            guard x.shape.count >= 3 else { throw invalid(n, "InstanceNormalization needs rank >= 3, got \(x.shape)") }
            channels = x.shape[1]
            block = x.shape[2...].reduce(1, *)
            guard scale.count == channels, bias?.count == channels else {
                throw invalid(n, "InstanceNormalization parameters do not have \(channels) channels")
            }
        }
        guard block > 0, x.count > 0 else { return try hostStep(n) }
        try checkIndexable(n, [x])
        let sb = try upload("__opencl_norm/\(n.name)/scale", s)
        let bb = try upload("__opencl_norm/\(n.name)/bias", b ?? [0])
        let y = try allocate(out, x.shape)
        let rows = x.count / block
        launch(
            "nn_layout", "normalize_rows", global: rows * Self.normLocal, local: Self.normLocal,
            [
                arg(x), arg(y), .arg(.buffer(sb)), .arg(.buffer(bb)), .arg(.uint(UInt32(block))),
                .arg(.uint(UInt32(channels))),
                .arg(.uint(layer ? 0 : 1)), .arg(.real(Double(n.float("epsilon", 1e-5)))),
                .arg(.uint(bias == nil ? 0 : 1)),
            ])
    }

    /// An operator that only moves data, as gathers by an index table: the reference implementation run once on
    /// the input's flat indices (exact in float32 below 2^24 elements) gives, per output element, the input element
    /// it copies. Other inputs must be host values (starts, sizes, constant indices); otherwise, or for modes that
    /// compute (linear Resize, constant Pad), the node is a host step.
    func indexCopy(_ n: Node) throws {
        let x = try device(n, 0)
        let computes =
            (["Resize", "Upsample"].contains(n.op) && (n.string("mode") ?? "nearest") != "nearest")
            || (n.op == "Pad" && (n.string("mode") ?? "constant") == "constant")
        var ins: [Tensor?] = [Tensor(shape: x.shape, floats: (0..<x.count).map { Float($0) })]
        for i in 1..<max(1, n.inputs.count) {
            guard let name = n.input(i) else {
                ins.append(nil)
                continue
            }
            guard case .host(let t)? = values[name] else { return try hostStep(n) }
            ins.append(t)
        }
        guard !computes, x.count < 1 << 24 else { return try hostStep(n) }
        let outs = try ONNXModel.evaluatePublic(n, ins, opset: model.opset)
        for (k, name) in n.outputs.enumerated() where !name.isEmpty && k < outs.count {
            guard lastUse[name] != nil || name == model.outputName || name == outputRoot else { continue }
            let table = try ints(outs[k].asFloats.map { Int($0) })
            let y = try allocate(name, outs[k].shape)
            launch("nn_layout", "index_copy", global: y.count, [arg(x), arg(y), .arg(.buffer(table))])
        }
    }
}
