import Foundation

/// Reductions, Softmax/LogSoftmax, BatchNormalization.
enum Reduce {
    /// ReduceMean/Max/Min/Sum/Prod/L1/L2/SumSquare/LogSumExp over `axes` (nil or empty: all axes, unless
    /// noop_with_empty_axes, which returns the input). Accumulates in Double; one pass over the input.
    static func reduce(_ node: Node, _ x: Tensor, axes axesIn: [Int]?) throws -> Tensor {
        let keep = node.int("keepdims", 1) != 0
        if axesIn == nil || axesIn!.isEmpty, node.int("noop_with_empty_axes", 0) != 0 {
            // No reduction, but the per-element part applies (as onnxruntime): |x| for L1 and L2, x² for SumSquare.
            switch node.op {
            case "ReduceL1", "ReduceL2": return Elementwise.unary(x) { Swift.abs($0) }
            case "ReduceSumSquare": return Elementwise.unary(x) { $0 * $0 }
            default: return x
            }
        }
        let axes = Set(try (axesIn?.isEmpty == false ? axesIn! : Array(0..<x.rank)).map { try normalizeAxis($0, rank: x.rank, node: node.name) })
        let outShapeKeep = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let outCount = outShapeKeep.reduce(1, *)
        let op = node.op
        let start: Double = op == "ReduceMax" ? -.infinity : op == "ReduceMin" ? .infinity : op == "ReduceProd" ? 1 : 0
        let combine: (Double, Double) -> Double
        switch op {
        case "ReduceMax": combine = { Swift.max($0, $1) }
        case "ReduceMin": combine = { Swift.min($0, $1) }
        case "ReduceProd": combine = { $0 * $1 }
        case "ReduceL1": combine = { $0 + Swift.abs($1) }
        case "ReduceL2", "ReduceSumSquare": combine = { $0 + $1 * $1 }
        default: combine = { $0 + $1 }
        }
        var acc = [Double](repeating: start, count: outCount)
        let os = strides(outShapeKeep)
        let xf = x.asFloats
        // LogSumExp: shift by the per-output maximum first (exact for large inputs).
        var shift = [Double](repeating: 0, count: outCount)
        var idx = [Int](repeating: 0, count: x.rank)
        func walk(_ body: (Int, Int) -> Void) {
            idx = [Int](repeating: 0, count: x.rank)
            for i in 0..<x.count {
                var o = 0
                for d in 0..<x.rank where !axes.contains(d) { o += idx[d] * os[d] }
                body(i, o)
                var d = x.rank - 1
                while d >= 0 {
                    idx[d] += 1
                    if idx[d] < x.shape[d] { break }
                    idx[d] = 0
                    d -= 1
                }
            }
        }
        if op == "ReduceLogSumExp" {
            shift = [Double](repeating: -.infinity, count: outCount)
            walk { i, o in shift[o] = Swift.max(shift[o], Double(xf[i])) }
            shift = shift.map { $0.isFinite ? $0 : 0 }
            walk { i, o in acc[o] += Foundation.exp(Double(xf[i]) - shift[o]) }
        } else {
            walk { i, o in acc[o] = combine(acc[o], Double(xf[i])) }
        }
        let n = Double(axes.map { x.shape[$0] }.reduce(1, *))
        let result: [Float] = acc.indices.map { o in
            switch op {
            case "ReduceMean": return Float(acc[o] / n)
            case "ReduceL2": return Float(acc[o].squareRoot())
            case "ReduceLogSumExp": return Float(Foundation.log(acc[o]) + shift[o])
            default: return Float(acc[o])
            }
        }
        let shape = keep ? outShapeKeep : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        if x.dtype == .int64, ["ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd"].contains(op) {
            return Tensor(shape: shape, ints: acc.map { Int64($0) })
        }
        return Tensor(shape: shape, floats: result)
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

    /// Inference form: y = scale·(x − mean)/sqrt(var + ε) + B, per channel (axis 1); with `perElement` (opsets 7
    /// and 8, spatial = 0) the parameters have shape [C, D1, …] and apply per element of a sample.
    static func batchNorm(_ node: Node, _ x: Tensor, _ scale: Tensor, _ bias: Tensor, _ mean: Tensor, _ variance: Tensor,
                          perElement: Bool = false) throws -> Tensor {
        guard x.rank >= 2 else { throw ONNXError.invalid(node.name, "BatchNormalization needs rank >= 2, got \(x.shape)") }
        let c = x.shape[1], inner = x.shape[2...].reduce(1, *)
        // Parameters per channel, or per (channel, position) for spatial = 0: k of them, each covering `run` values.
        let (k, run) = perElement ? (c * inner, 1) : (c, inner)
        guard [scale, bias, mean, variance].allSatisfy({ $0.count == k }) else {
            throw ONNXError.invalid(node.name, "BatchNormalization parameters do not have \(k) values (\(x.shape))")
        }
        let eps = node.float("epsilon", 1e-5)
        let s = scale.asFloats, b = bias.asFloats, mu = mean.asFloats, v = variance.asFloats
        let a = (0..<k).map { s[$0] / (v[$0] + eps).squareRoot() }
        var f = x.asFloats
        for o in 0..<(x.count / Swift.max(k * run, 1)) {
            for p in 0..<k {
                let base = (o * k + p) * run
                for i in 0..<run { f[base + i] = (f[base + i] - mu[p]) * a[p] + b[p] }
            }
        }
        return Tensor(shape: x.shape, floats: f)
    }
}

extension Reduce {
    /// The axes of a reduction: an attribute before `inputSince`, the optional second input from it on.
    static func axes(_ n: Node, _ x: Inputs, opset: Int, inputSince: Int) -> [Int]? {
        opset >= inputSince ? x.optional(1)?.asInts : n.ints("axes")
    }

    static let operators: [Operator] = [
        Operator("Softmax") { n, x, opset in [try softmax(n, x[0], opset: opset, log: false)] },
        Operator("LogSoftmax") { n, x, opset in [try softmax(n, x[0], opset: opset, log: true)] },
        Operator("ReduceMean") { n, x, o in [try reduce(n, x[0], axes: axes(n, x, opset: o, inputSince: 18))] },
        Operator("ReduceMax") { n, x, o in [try reduce(n, x[0], axes: axes(n, x, opset: o, inputSince: 18))] },
        Operator("ReduceSum") { n, x, o in [try reduce(n, x[0], axes: axes(n, x, opset: o, inputSince: 13))] },
    ] + ["ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"].map { name in
        Operator(name) { n, x, o in [try reduce(n, x[0], axes: axes(n, x, opset: o, inputSince: 18))] }
    }
}
