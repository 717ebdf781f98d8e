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
        var shape = target.enumerated().map { $0.element == 0 && $0.offset < x.rank ? x.shape[$0.offset] : $0.element }
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

    static func cast(_ node: Node, _ x: Tensor) throws -> Tensor {
        switch node.int("to", 1) {
        case 1, 11: return Tensor(shape: x.shape, floats: x.asFloats)  // FLOAT, DOUBLE (computed in float32)
        case 6, 7: return Tensor(shape: x.shape, ints: x.asInts.map { Int64($0) })  // INT32, INT64
        default: throw ONNXError.unsupported(node.name, "Cast to data type \(node.int("to", 1))")
        }
    }
}
