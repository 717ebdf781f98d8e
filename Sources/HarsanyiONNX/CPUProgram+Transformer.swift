import Foundation

/// Compiled CPU kernels for the layers of transformers (the nodes BERT-, GPT-2-, Llama- and OPT-style exports run
/// per masked batch that the interpreter used to take on copies): the same arithmetic as the reference
/// implementations (`Ops+Normalization.swift`, `Ops+Reduce.swift`, `Ops+Linear.swift`), in the arena, in place of
/// a copy in and out per node.
extension CPUProgram {
    /// LayerNormalization over the last axis (`block` values per row) with constant scale and bias of that length:
    /// y = (x − μ)/√(σ² + ε)·γ + β, two passes per row in Double as the reference. O(rows · block).
    static func layerNormKernel(
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, block: Int, scale: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, epsilon: Double
    ) {
        for r in 0..<rows {
            let xr = x + r * block
            let yr = y + r * block
            var mean = 0.0
            for i in 0..<block { mean += Double(xr[i]) }
            mean /= Double(block)
            var v = 0.0
            for i in 0..<block {
                let d = Double(xr[i]) - mean
                v += d * d
            }
            let inv = 1 / (v / Double(block) + epsilon).squareRoot()
            for i in 0..<block {
                let t = (Double(xr[i]) - mean) * inv * Double(scale[i])
                yr[i] = Float(t + Double(bias?[i] ?? 0))
            }
        }
    }

    /// Softmax over rows of `n` contiguous values: exp(x − max)/Σ, in Float as the reference. O(rows · n).
    static func softmaxKernel(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, n: Int, log: Bool) {
        for r in 0..<rows {
            let xr = x + r * n
            let yr = y + r * n
            var m = -Float.infinity
            for j in 0..<n { m = Swift.max(m, xr[j]) }
            var s: Float = 0
            for j in 0..<n { s += Foundation.exp(xr[j] - m) }
            let ls = Foundation.log(s)
            for j in 0..<n {
                let v = xr[j] - m
                yr[j] = log ? v - ls : Foundation.exp(v) / s
            }
        }
    }

    /// ReduceMean over the last axis (RMSNorm's mean of squares): Σ in Double as the reference. O(rows · n).
    static func rowMeanKernel(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
        for r in 0..<rows {
            var acc = 0.0
            for j in 0..<n { acc += Double(x[r * n + j]) }
            y[r] = Float(acc / Double(n))
        }
    }

    /// Whether `n` only moves the elements of its first input, an arena tensor, by a pattern its other inputs
    /// (constants or shape values) fix: Slice, Split, Expand, Tile, Gather by constant indices.
    static func movesArenaData(_ n: Node, _ slots: [String: Slot]) -> Bool {
        guard let data = n.inputs.first, slots[data] != nil else { return false }
        return n.inputs.dropFirst().allSatisfy { $0.isEmpty || slots[$0] == nil }
    }

    /// Batched MatMul of two arena tensors [G, m, k] × [G, k, n] → [G, m, n] (leading axes equal, or the right
    /// operand 2-D and shared): one sgemm per batch matrix. O(G·m·k·n).
    static func batchedMatMulKernel(
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, batches: Int, m: Int, k: Int,
        n: Int, sharedB: Bool
    ) {
        for g in 0..<batches {
            Linear.sgemm(
                false, false, m: m, n: n, k: k, alpha: 1, a + g * m * k, lda: k, sharedB ? b : b + g * k * n, ldb: n,
                beta: 0, y + g * m * n, ldc: n)
        }
    }

    /// The (batches, m, k, n, sharedB) of a MatMul whose operands are both arena tensors, or nil when their
    /// leading axes broadcast in another way (the interpreter takes those).
    static func batchedMatMulShape(_ a: [Int], _ b: [Int]) -> (Int, Int, Int, Int, Bool)? {
        guard a.count >= 2, b.count >= 2, a[a.count - 1] == b[b.count - 2] else { return nil }
        let m = a[a.count - 2]
        let k = a[a.count - 1]
        let n = b[b.count - 1]
        let leadA = Array(a.dropLast(2))
        let leadB = Array(b.dropLast(2))
        if leadA == leadB { return (leadA.reduce(1, *), m, k, n, false) }
        if leadB.allSatisfy({ $0 == 1 }) { return (leadA.reduce(1, *), m, k, n, true) }
        return nil
    }
}
