import Foundation

/// Pad: constant, reflect, edge and wrap modes; negative pads crop. Float32 and int64 data keep their dtype.
enum PadOps {
    /// Pads `x` by `pads` = [begin_0 … begin_{k-1}, end_0 … end_{k-1}] over `axes` (all axes when nil).
    ///
    /// Per axis of size n with pads b, e: negative pads crop first (as onnxruntime does), leaving the kept
    /// input range [max(0, −b), n − max(0, −e)) of size m ≥ 0; the output has size n + b + e and its index o
    /// reads kept index i = o − max(0, b), mapped when outside [0, m) by the mode:
    /// constant → `value`; edge → clamp(i, 0, m − 1); reflect → i mod 2(m − 1) folded back (numpy's reflect,
    /// any pad width; m = 1 repeats the one element); wrap → i mod m. O(output).
    static func pad(_ node: Node, _ x: Tensor, pads: [Int], axes axesIn: [Int]?, mode: String, value: (Float, Int64))
        throws -> Tensor
    {
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else {
            throw ONNXError.unsupported(node.name, "Pad mode '\(mode)' (constant, reflect, edge, wrap are supported)")
        }
        let axes = try (axesIn ?? Array(0..<x.rank)).map { try normalizeAxis($0, rank: x.rank, node: node.name) }
        guard Set(axes).count == axes.count, pads.count == 2 * axes.count else {
            throw ONNXError.invalid(node.name, "Pad pads \(pads) for axes \(axes) of input \(x.shape)")
        }
        var begin = [Int](repeating: 0, count: x.rank)
        var end = begin
        for (i, a) in axes.enumerated() { (begin[a], end[a]) = (pads[i], pads[axes.count + i]) }
        guard (begin + end).allSatisfy({ $0 >= -SliceOps.maxElements && $0 <= SliceOps.maxElements }) else {
            throw ONNXError.unsupported(node.name, "Pad pads \(pads) are over 2^31")
        }
        let shape = x.shape.indices.map { x.shape[$0] + begin[$0] + end[$0] }
        _ = try SliceOps.checkedCount(shape, node)
        let st = strides(x.shape)
        var maps: [[Int]] = []
        for a in x.shape.indices {
            let cropBegin = max(0, -begin[a])
            let m = x.shape[a] - cropBegin - max(0, -end[a])
            guard m >= 0 else { throw ONNXError.invalid(node.name, "Pad pads \(pads) crop more than input \(x.shape)") }
            let lead = max(0, begin[a])
            guard m > 0 || mode == "constant" || shape[a] == 0 else {
                throw ONNXError.invalid(node.name, "Pad mode \(mode) on an empty axis \(a) of \(x.shape)")
            }
            maps.append(
                (0..<shape[a]).map { o in
                    var i = o - lead
                    if i < 0 || i >= m {
                        switch mode {
                        case "edge": i = min(max(i, 0), m - 1)
                        case "wrap": i = ((i % m) + m) % m
                        case "reflect":
                            if m == 1 {
                                i = 0
                            } else {
                                let p = 2 * (m - 1)
                                let r = ((i % p) + p) % p
                                i = r < m ? r : p - r
                            }
                        default: return -1
                        }
                    }
                    return (cropBegin + i) * st[a]
                })
        }
        return SliceOps.take(x, shape: shape, maps: maps, fill: value)
    }

    static let operators: [Operator] = [
        Operator("Pad") { n, x, opset in
            let t = try x[0]
            let mode = n.string("mode") ?? "constant"
            if opset < 11 {
                guard let pads = n.ints("pads") else { throw ONNXError.invalid(n.name, "Pad needs a pads attribute") }
                let v = n.float("value", 0)
                return [try pad(n, t, pads: pads, axes: nil, mode: mode, value: (v, ShapeOps.truncatedInt(v)))]
            }
            var value: (Float, Int64) = (0, 0)
            if let c = x.optional(2), c.count > 0 {
                value =
                    c.dtype == .int64
                    ? (Float(c.ints[0]), c.ints[0])
                    : (c.floats[0], ShapeOps.truncatedInt(c.floats[0]))
            }
            let axes = opset >= 18 ? x.optional(3)?.asInts : nil
            return [try pad(n, t, pads: x[1].asInts, axes: axes, mode: mode, value: value)]
        }
    ]
}
