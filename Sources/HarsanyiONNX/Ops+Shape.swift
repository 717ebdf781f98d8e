import Foundation

/// Operators that move or reinterpret data: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Shape,
/// Gather, Cast.
enum ShapeOps {
    static func withShape(_ t: Tensor, _ shape: [Int]) -> Tensor {
        var r = t
        r.shape = shape
        return r
    }

    static func reshape(_ node: Node, _ x: Tensor, _ target: [Int]) throws -> Tensor {
        // A 0 copies the input's axis unless allowzero = 1 (opset 14), where it is a 0-sized axis.
        let allowZero = node.int("allowzero", 0) != 0
        var shape = target.enumerated().map {
            $0.element == 0 && !allowZero && $0.offset < x.rank ? x.shape[$0.offset] : $0.element
        }
        // Checked arithmetic: target entries are -1 or ≥ 0 and their product must not overflow.
        var known = 1
        for d in shape where d != -1 {
            let (m, overflow) = known.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else { throw ONNXError.invalid(node.name, "Reshape of \(x.shape) to \(target)") }
            known = m
        }
        if let i = shape.firstIndex(of: -1) {
            guard shape.filter({ $0 == -1 }).count == 1, known > 0, x.count % known == 0 else {
                throw ONNXError.invalid(node.name, "Reshape of \(x.shape) to \(target)")
            }
            shape[i] = x.count / known
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == x.count else {
            throw ONNXError.invalid(node.name, "Reshape of \(x.shape) (\(x.count) values) to \(target)")
        }
        return withShape(x, shape)
    }

    static func flatten(_ node: Node, _ x: Tensor) throws -> Tensor {
        var axis = node.int("axis", 1)
        if axis < 0 { axis += x.rank }
        guard axis >= 0, axis <= x.rank else { throw ONNXError.invalid(node.name, "Flatten axis \(node.int("axis", 1)) for rank \(x.rank)") }
        let outer = x.shape.prefix(axis).reduce(1, *)
        return withShape(x, [outer, x.count / Swift.max(outer, 1)])
    }

    static func transpose(_ node: Node, _ x: Tensor) throws -> Tensor {
        let perm = node.ints("perm") ?? Array((0..<x.rank).reversed())
        guard perm.sorted() == Array(0..<x.rank) else { throw ONNXError.invalid(node.name, "Transpose perm \(perm) for rank \(x.rank)") }
        let shape = perm.map { x.shape[$0] }
        let src = strides(x.shape), srcPerm = perm.map { src[$0] }
        let count = x.count
        var idx = [Int](repeating: 0, count: x.rank)
        func gather<T>(_ data: [T]) -> [T] {
            var out = [T]()
            out.reserveCapacity(count)
            var off = 0
            for _ in 0..<count {
                out.append(data[off])
                var d = x.rank - 1
                while d >= 0 {
                    idx[d] += 1
                    off += srcPerm[d]
                    if idx[d] < shape[d] { break }
                    off -= srcPerm[d] * shape[d]
                    idx[d] = 0
                    d -= 1
                }
            }
            return out
        }
        return x.dtype == .float32 ? Tensor(shape: shape, floats: gather(x.floats)) : Tensor(shape: shape, ints: gather(x.ints))
    }

    static func squeeze(_ node: Node, _ x: Tensor, _ axesIn: [Int]?) throws -> Tensor {
        let axes = try (axesIn ?? x.shape.indices.filter { x.shape[$0] == 1 }).map { try normalizeAxis($0, rank: x.rank, node: node.name) }
        for a in axes where x.shape[a] != 1 { throw ONNXError.invalid(node.name, "Squeeze axis \(a) has size \(x.shape[a])") }
        return withShape(x, x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] })
    }

    static func unsqueeze(_ node: Node, _ x: Tensor, _ axesIn: [Int]) throws -> Tensor {
        let rank = x.rank + axesIn.count
        let axes = try axesIn.map { try normalizeAxis($0, rank: rank, node: node.name) }
        guard Set(axes).count == axes.count else { throw ONNXError.invalid(node.name, "Unsqueeze axes \(axesIn) repeat an axis") }
        var shape: [Int] = []
        var src = x.shape.makeIterator()
        for i in 0..<rank {
            if axes.contains(i) { shape.append(1) } else if let d = src.next() { shape.append(d) }
        }
        return withShape(x, shape)
    }

    static func concat(_ node: Node, _ xs: [Tensor]) throws -> Tensor {
        guard let first = xs.first else { throw ONNXError.invalid(node.name, "Concat of nothing") }
        let axis = try normalizeAxis(node.int("axis", 0), rank: first.rank, node: node.name)
        for t in xs where t.rank != first.rank || t.shape.enumerated().contains(where: { $0.offset != axis && $0.element != first.shape[$0.offset] }) {
            throw ONNXError.invalid(node.name, "Concat shapes \(xs.map(\.shape)) differ off axis \(axis)")
        }
        var shape = first.shape
        shape[axis] = xs.map { $0.shape[axis] }.reduce(0, +)
        let outer = first.shape.prefix(axis).reduce(1, *)
        let isInt = xs.allSatisfy { $0.dtype == .int64 }
        var f: [Float] = [], i: [Int64] = []
        for o in 0..<outer {
            for t in xs {
                let block = t.shape[axis...].reduce(1, *)
                if isInt { i += t.ints[(o * block)..<((o + 1) * block)] } else { f += t.asFloats[(o * block)..<((o + 1) * block)] }
            }
        }
        return isInt ? Tensor(shape: shape, ints: i) : Tensor(shape: shape, floats: f)
    }

    static func shape(_ node: Node, _ x: Tensor) -> Tensor {
        var start = node.int("start", 0), end = node.int("end", x.rank)
        if start < 0 { start += x.rank }
        if end < 0 { end += x.rank }
        start = Swift.min(Swift.max(start, 0), x.rank)
        end = Swift.min(Swift.max(end, start), x.rank)
        let dims = x.shape[start..<end].map { Int64($0) }
        return Tensor(shape: [dims.count], ints: Array(dims))
    }

    static func gather(_ node: Node, _ x: Tensor, _ indices: Tensor) throws -> Tensor {
        let axis = try normalizeAxis(node.int("axis", 0), rank: x.rank, node: node.name)
        let n = x.shape[axis]
        let idx = try indices.asInts.map { i -> Int in
            let j = i < 0 ? i + n : i
            guard j >= 0, j < n else { throw ONNXError.invalid(node.name, "Gather index \(i) out of range \(n)") }
            return j
        }
        let outer = x.shape.prefix(axis).reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
        let shape = Array(x.shape.prefix(axis)) + indices.shape + Array(x.shape[(axis + 1)...])
        func pick<T>(_ data: [T]) -> [T] {
            var out: [T] = []
            for o in 0..<outer { for j in idx { out += data[((o * n + j) * inner)..<((o * n + j + 1) * inner)] } }
            return out
        }
        return x.dtype == .float32 ? Tensor(shape: shape, floats: pick(x.floats)) : Tensor(shape: shape, ints: pick(x.ints))
    }

    /// Cast. Float types (float, double, float16, bfloat16) are float32 here: float16 and bfloat16 round through
    /// their format. Integer types are int64 here (float → int truncates toward zero, as numpy's astype).
    /// BOOL is 0/1 in the input's representation: float data stays float (x ≠ 0), so comparisons and masks
    /// computed from data stay on the float paths of every executor.
    static func cast(_ node: Node, _ x: Tensor) throws -> Tensor {
        let to = node.int("to", 1)
        switch to {
        case 1, 11: return Tensor(shape: x.shape, floats: x.asFloats)
        case 10: return Tensor(shape: x.shape, floats: x.asFloats.map { Float(Float16($0)) })
        case 16: return Tensor(shape: x.shape, floats: x.asFloats.map(bfloat16))
        case 2, 3, 4, 5, 6, 7, 12, 13:
            return Tensor(shape: x.shape, ints: x.dtype == .int64 ? x.ints : x.floats.map(truncatedInt))
        case 9:
            if x.dtype == .float32 { return Tensor(shape: x.shape, floats: x.floats.map { $0 != 0 ? 1 : 0 }) }
            return Tensor(shape: x.shape, ints: x.ints.map { $0 != 0 ? 1 : 0 })
        default: throw ONNXError.unsupported(node.name, "Cast to data type \(to)")
        }
    }

    /// Float to int64 truncating toward zero; NaN and values beyond ±2^62 saturate (no trap).
    static func truncatedInt(_ v: Float) -> Int64 { v.isNaN ? 0 : Int64(Swift.max(-0x1p62, Swift.min(0x1p62, v))) }

    /// Rounds to bfloat16 (round to nearest even on the upper 16 bits).
    static func bfloat16(_ v: Float) -> Float {
        guard v.isFinite else { return v }
        let b = v.bitPattern
        let rounded = b &+ 0x7FFF &+ ((b >> 16) & 1)
        return Float(bitPattern: rounded & 0xFFFF_0000)
    }
}

extension ShapeOps {
    /// The axes of Squeeze/Unsqueeze: an attribute before opset 13, the second input from 13 on.
    static func axes(_ n: Node, _ x: Inputs, _ opset: Int) -> [Int]? { opset >= 13 ? x.optional(1)?.asInts : n.ints("axes") }

    static let operators: [Operator] = [
        Operator("Identity") { _, x, _ in [try x[0]] },
        Operator("Dropout") { n, x, _ in
            let t = try x[0]
            // Inference: the output is the input; the optional mask output is all true.
            if n.outputs.count > 1 { return [t, Tensor(shape: t.shape, ints: [Int64](repeating: 1, count: t.count))] }
            return [t]
        },
        Operator("Constant") { n, _, _ in
            if case .tensor(let t)? = n.attributes["value"] { return [t] }
            if case .float(let f)? = n.attributes["value_float"] { return [Tensor(shape: [], floats: [f])] }
            if case .floats(let f)? = n.attributes["value_floats"] { return [Tensor(shape: [f.count], floats: f)] }
            if case .int(let i)? = n.attributes["value_int"] { return [Tensor(shape: [], ints: [Int64(i)])] }
            if case .ints(let i)? = n.attributes["value_ints"] { return [Tensor(shape: [i.count], ints: i.map { Int64($0) })] }
            throw ONNXError.unsupported(n.name, "Constant without a supported value attribute")
        },
        Operator("Flatten") { n, x, _ in [try flatten(n, x[0])] },
        Operator(
            "Reshape",
            check: { n, _ in
                // allowzero = 1: a 0 in the shape is a 0-sized axis, not a copy of the input's axis.
                guard [0, 1].contains(n.int("allowzero", 0)) else { throw ONNXError.invalid(n.name, "allowzero must be 0 or 1") }
            }
        ) { n, x, _ in [try reshape(n, x[0], x[1].asInts)] },
        Operator("Transpose") { n, x, _ in [try transpose(n, x[0])] },
        Operator("Squeeze") { n, x, opset in [try squeeze(n, x[0], axes(n, x, opset))] },
        Operator("Unsqueeze") { n, x, opset in
            guard let a = axes(n, x, opset) else { throw ONNXError.invalid(n.name, "Unsqueeze needs axes") }
            return [try unsqueeze(n, x[0], a)]
        },
        Operator("Concat") { n, x, _ in [try concat(n, x.present)] },
        Operator("Shape") { n, x, _ in [shape(n, try x[0])] },
        Operator("Size") { _, x, _ in [Tensor(shape: [], ints: [Int64(try x[0].count)])] },
        Operator("Gather") { n, x, _ in [try gather(n, x[0], x[1])] },
        Operator("Cast") { n, x, _ in [try cast(n, x[0])] },
        Operator("CastLike") { n, x, _ in
            let like = try x[1]
            return [like.dtype == .float32 ? Tensor(shape: try x[0].shape, floats: try x[0].asFloats)
                    : Tensor(shape: try x[0].shape, ints: try x[0].asInts.map { Int64($0) })]
        },
    ]
}
