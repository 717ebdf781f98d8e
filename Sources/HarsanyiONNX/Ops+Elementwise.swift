import Foundation

/// Elementwise operators: numpy-style (multidirectional) broadcasting for the binary ones.
enum Elementwise {
    /// The broadcast shape of a and b, or nil when they do not broadcast.
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            out[i] = x == 1 ? y : x  // a 0-sized axis broadcasts against 1 to 0, not to 1
        }
        return out
    }

    /// Strides of `shape` viewed in the broadcast `target` shape (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let s = strides(shape)
        let off = target.count - shape.count
        return (0..<target.count).map { i in i < off || shape[i - off] == 1 ? 0 : s[i - off] }
    }

    static func binary(_ node: Node, _ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) throws -> Tensor {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            throw ONNXError.invalid(node.name, "\(node.op) cannot broadcast \(a.shape) with \(b.shape)")
        }
        let x = a.asFloats, y = b.asFloats
        if a.shape == b.shape { return Tensor(shape: shape, floats: zip(x, y).map(f)) }
        let count = shape.reduce(1, *)
        if b.count == 1 { let c = y[0]; return Tensor(shape: shape, floats: x.count == count ? x.map { f($0, c) } : try expand(node, a, shape).floats.map { f($0, c) }) }
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        var out = [Float](repeating: 0, count: count)
        // Innermost axis in a tight loop; the outer index walks with a counter.
        let last = shape.count - 1
        let inner = shape[last], ia = sa[last], ib = sb[last]
        var idx = [Int](repeating: 0, count: shape.count)
        var offA = 0, offB = 0, o = 0
        while o < count {
            for j in 0..<inner { out[o + j] = f(x[offA + j * ia], y[offB + j * ib]) }
            o += inner
            var d = last - 1
            while d >= 0 {
                idx[d] += 1
                offA += sa[d]
                offB += sb[d]
                if idx[d] < shape[d] { break }
                offA -= sa[d] * shape[d]
                offB -= sb[d] * shape[d]
                idx[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: shape, floats: out)
    }

    /// `a` materialised in the broadcast shape.
    static func expand(_ node: Node, _ a: Tensor, _ shape: [Int]) throws -> Tensor {
        try binary(node, a, Tensor(shape: shape, floats: [Float](repeating: 0, count: shape.reduce(1, *)))) { x, _ in x }
    }

    @inline(__always)
    static func unary(_ a: Tensor, _ f: (Float) -> Float) -> Tensor {
        var out = a.asFloats
        out.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = f(p[i]) } }
        return Tensor(shape: a.shape, floats: out)
    }

    static func sigmoid(_ x: Float) -> Float { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
}
