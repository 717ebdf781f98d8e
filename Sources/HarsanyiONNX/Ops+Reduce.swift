import Foundation

/// Reductions, Softmax/LogSoftmax, BatchNormalization.
enum Reduce {
    /// ReduceMean/Max/Sum over `axes` (nil: all, unless noop_with_empty_axes).
    static func reduce(_ node: Node, _ x: Tensor, axes axesIn: [Int]?) throws -> Tensor {
        let keep = node.int("keepdims", 1) != 0
        if axesIn == nil || axesIn!.isEmpty, node.int("noop_with_empty_axes", 0) != 0 { return x }
        let axes = Set(try (axesIn?.isEmpty == false ? axesIn! : Array(0..<x.rank)).map { try normalizeAxis($0, rank: x.rank, node: node.name) })
        let outShapeKeep = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let outCount = outShapeKeep.reduce(1, *)
        let isMax = node.op == "ReduceMax"
        var acc = [Float](repeating: isMax ? -.infinity : 0, count: outCount)
        let os = strides(outShapeKeep)
        let xf = x.asFloats
        var idx = [Int](repeating: 0, count: x.rank)
        for i in 0..<x.count {
            var o = 0
            for d in 0..<x.rank where !axes.contains(d) { o += idx[d] * os[d] }
            acc[o] = isMax ? Swift.max(acc[o], xf[i]) : acc[o] + xf[i]
            var d = x.rank - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < x.shape[d] { break }
                idx[d] = 0
                d -= 1
            }
        }
        if node.op == "ReduceMean" {
            let n = Float(axes.map { x.shape[$0] }.reduce(1, *))
            acc = acc.map { $0 / n }
        }
        let shape = keep ? outShapeKeep : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return Tensor(shape: shape, floats: acc)
    }

    /// Softmax or LogSoftmax. Opset >= 13: over one axis (default −1). Before: the input is seen as 2-D
    /// [prod(dims[..<axis]), prod(dims[axis...])] (default axis 1) and normalised over the second dimension.
    static func softmax(_ node: Node, _ x: Tensor, opset: Int, log: Bool) throws -> Tensor {
        let axis = try normalizeAxis(node.int("axis", opset >= 13 ? -1 : 1), rank: x.rank, node: node.name)
        let (outer, n, inner): (Int, Int, Int) = opset >= 13
            ? (x.shape.prefix(axis).reduce(1, *), x.shape[axis], x.shape[(axis + 1)...].reduce(1, *))
            : (x.shape.prefix(axis).reduce(1, *), x.shape[axis...].reduce(1, *), 1)
        var f = x.asFloats
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var m = -Float.infinity
                for j in 0..<n { m = Swift.max(m, f[base + j * inner]) }
                var s: Float = 0
                for j in 0..<n { s += Foundation.exp(f[base + j * inner] - m) }
                let ls = Foundation.log(s)
                for j in 0..<n {
                    let v = f[base + j * inner] - m
                    f[base + j * inner] = log ? v - ls : Foundation.exp(v) / s
                }
            }
        }
        return Tensor(shape: x.shape, floats: f)
    }

    /// Inference form: y = scale·(x − mean)/sqrt(var + ε) + B, per channel (axis 1).
    static func batchNorm(_ node: Node, _ x: Tensor, _ scale: Tensor, _ bias: Tensor, _ mean: Tensor, _ variance: Tensor) throws -> Tensor {
        guard x.rank >= 2 else { throw ONNXError.invalid(node.name, "BatchNormalization needs rank >= 2, got \(x.shape)") }
        let c = x.shape[1], inner = x.shape[2...].reduce(1, *)
        guard [scale, bias, mean, variance].allSatisfy({ $0.count == c }) else {
            throw ONNXError.invalid(node.name, "BatchNormalization parameters do not have \(c) channels")
        }
        let eps = node.float("epsilon", 1e-5)
        let s = scale.asFloats, b = bias.asFloats, mu = mean.asFloats, v = variance.asFloats
        let a = (0..<c).map { s[$0] / (v[$0] + eps).squareRoot() }
        var f = x.asFloats
        for o in 0..<(x.count / (c * Swift.max(inner, 1))) {
            for ch in 0..<c {
                let base = (o * c + ch) * inner
                for i in 0..<inner { f[base + i] = (f[base + i] - mu[ch]) * a[ch] + b[ch] }
            }
        }
        return Tensor(shape: x.shape, floats: f)
    }
}
