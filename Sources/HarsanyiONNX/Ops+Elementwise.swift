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

    /// Broadcast binary operator on int64 tensors (shape arithmetic; small, so a plain index walk).
    static func binaryInts<T>(_ node: Node, _ a: Tensor, _ b: Tensor, _ f: (Int64, Int64) -> T) throws -> (shape: [Int], values: [T]) {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            throw ONNXError.invalid(node.name, "\(node.op) cannot broadcast \(a.shape) with \(b.shape)")
        }
        let x = a.asInts.map { Int64($0) }, y = b.asInts.map { Int64($0) }
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape), so = strides(shape)
        let count = shape.reduce(1, *)
        var out: [T] = []
        out.reserveCapacity(count)
        for o in 0..<count {
            var ia = 0, ib = 0, r = o
            for d in shape.indices {
                let k = r / so[d]
                r -= k * so[d]
                ia += k * sa[d]
                ib += k * sb[d]
            }
            out.append(f(x[ia], y[ib]))
        }
        return (shape, out)
    }

    static func binaryInts(_ node: Node, _ a: Tensor, _ b: Tensor, _ f: (Int64, Int64) -> Int64) throws -> Tensor {
        let (shape, v) = try binaryInts(node, a, b, f) as ([Int], [Int64])
        return Tensor(shape: shape, ints: v)
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

extension Elementwise {
    /// A binary arithmetic operator: float data in float32; two int64 tensors (shape arithmetic) stay int64.
    static func arithmetic(_ name: String, _ f: @escaping @Sendable (Float, Float) -> Float,
                           _ g: @escaping @Sendable (Int64, Int64) -> Int64) -> Operator {
        Operator(name) { n, x, _ in
            let a = try x[0], b = try x[1]
            if a.dtype == .int64, b.dtype == .int64 {
                if name == "Div", b.ints.contains(0) { throw ONNXError.invalid(n.name, "integer division by zero") }
                return [try binaryInts(n, a, b, g)]
            }
            return [try binary(n, a, b, f)]
        }
    }

    /// Arithmetic and the activations every exporter emits. Clip before opset 11 reads min/max attributes.
    static let operators: [Operator] = [
        arithmetic("Add", +, { $0 &+ $1 }),
        arithmetic("Sub", -, { $0 &- $1 }),
        arithmetic("Mul", *, { $0 &* $1 }),
        // Integer division truncates toward zero (C, onnxruntime); a zero divisor is an error, not a trap.
        arithmetic("Div", /, { $1 == 0 ? 0 : $0 / $1 }),
        .unary("Relu") { _ in { Swift.max($0, 0) } },
        .unary("LeakyRelu") { n in
            let alpha = n.float("alpha", 0.01)
            return { $0 >= 0 ? $0 : alpha * $0 }
        },
        .unary("Sigmoid") { _ in sigmoid },
        .unary("Tanh") { _ in { Foundation.tanh($0) } },
        Operator("Clip") { n, x, opset in
            let lo = opset >= 11 ? x.optional(1)?.asFloats.first ?? -.infinity : n.float("min", -.infinity)
            let hi = opset >= 11 ? x.optional(2)?.asFloats.first ?? .infinity : n.float("max", .infinity)
            let t = try x[0]
            if t.dtype == .int64 {
                return [Tensor(shape: t.shape, ints: t.ints.map { Int64(Swift.min(Swift.max(Float($0), lo), hi)) })]
            }
            return [unary(t) { Swift.min(Swift.max($0, lo), hi) }]
        },
    ]
}
