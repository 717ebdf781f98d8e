import Foundation

/// Normalisations: BatchNormalization (inference form), LayerNormalization, InstanceNormalization.
enum Normalization {
    /// Mean and biased variance of f[base ..< base + n] in Double, two passes (no cancellation). O(n).
    static func moments(_ f: [Float], _ base: Int, _ n: Int) -> (mean: Double, variance: Double) {
        var mean = 0.0
        for i in 0..<n { mean += Double(f[base + i]) }
        mean /= Double(n)
        var v = 0.0
        for i in 0..<n { v += (Double(f[base + i]) - mean) * (Double(f[base + i]) - mean) }
        return (mean, v / Double(n))
    }

    /// LayerNormalization (opset 17): over the axes from `axis` (default −1) to the last,
    /// y = (x − μ)/√(σ² + ε)·scale + bias, μ and σ² the mean and (biased) variance of each normalised block,
    /// scale and bias broadcast against the block. Two passes per block in Double. O(count).
    static func layerNorm(_ node: Node, _ x: Tensor, _ scale: Tensor, _ bias: Tensor?) throws -> Tensor {
        let axis = try normalizeAxis(node.int("axis", -1), rank: x.rank, node: node.name)
        let block = x.shape[axis...].reduce(1, *)
        let blockShape = Array(x.shape[axis...])
        func expanded(_ t: Tensor) throws -> [Float] {
            guard let s = Elementwise.broadcastShape(blockShape, t.shape), s == blockShape else {
                throw ONNXError.invalid(
                    node.name, "LayerNormalization parameter \(t.shape) does not broadcast to \(blockShape)")
            }
            return try Elementwise.expand(node, t, blockShape).asFloats
        }
        let g = try expanded(scale)
        let b = try bias.map(expanded)
        let eps = Double(node.float("epsilon", 1e-5))
        var f = x.asFloats
        for o in 0..<(block == 0 ? 0 : x.count / block) {
            let base = o * block
            let (mean, v) = moments(f, base, block)
            let inv = 1 / (v + eps).squareRoot()
            for i in 0..<block {
                let y = (Double(f[base + i]) - mean) * inv * Double(g[i])
                f[base + i] = Float(y + Double(b?[i] ?? 0))
            }
        }
        return Tensor(shape: x.shape, floats: f)
    }

    /// InstanceNormalization: per sample and channel over the spatial axes, y = scale_c·(x − μ)/√(σ² + ε) + B_c.
    static func instanceNorm(_ node: Node, _ x: Tensor, _ scale: Tensor, _ bias: Tensor) throws -> Tensor {
        guard x.rank >= 3 else {
            throw ONNXError.invalid(node.name, "InstanceNormalization needs rank >= 3, got \(x.shape)")
        }
        let c = x.shape[1]
        let inner = x.shape[2...].reduce(1, *)
        guard scale.count == c, bias.count == c else {
            throw ONNXError.invalid(node.name, "InstanceNormalization parameters do not have \(c) channels")
        }
        let eps = Double(node.float("epsilon", 1e-5))
        let s = scale.asFloats
        let bb = bias.asFloats
        var f = x.asFloats
        for plane in 0..<(inner == 0 ? 0 : x.count / inner) {
            let ch = plane % c
            let base = plane * inner
            let (mean, v) = moments(f, base, inner)
            let a = Double(s[ch]) / (v + eps).squareRoot()
            for i in 0..<inner { f[base + i] = Float((Double(f[base + i]) - mean) * a + Double(bb[ch])) }
        }
        return Tensor(shape: x.shape, floats: f)
    }

    static let operators: [Operator] = [
        Operator(
            "BatchNormalization",
            check: { n, _ in
                if n.int("training_mode", 0) != 0 {
                    throw ONNXError.unsupported(n.name, "BatchNormalization in training mode")
                }
            }
        ) { n, x, opset in
            // Opsets 7 and 8: spatial = 0 normalises per element (parameters of shape [C, D1, …]).
            [try Reduce.batchNorm(n, x[0], x[1], x[2], x[3], x[4], perElement: opset < 9 && n.int("spatial", 1) == 0)]
        },
        Operator(
            "LayerNormalization", since: 17,
            check: { n, _ in
                if n.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
                    throw ONNXError.unsupported(n.name, "LayerNormalization Mean / InvStdDev outputs")
                }
            }
        ) { n, x, _ in [try layerNorm(n, x[0], x[1], x.optional(2))] },
        Operator("InstanceNormalization") { n, x, _ in [try instanceNorm(n, x[0], x[1], x[2])] },
    ]
}
