import Foundation
import HarsanyiCore

/// A learned baseline embedding for a text model (spec §3, "Learned baseline for LLMs", after interaction-sparsity's
/// `interaction/baseline/train.py`): one vector b ∈ R^H put at every masked position, fitted so that the masked
/// model has few interactions of a high order,
///
///     L(b) = (1/D) Σ_d |v(S1 ∪ S2 ∪ S3) − v(S1 ∪ S3) − v(S2 ∪ S3) + v(S3)|,
///
/// over D random draws of disjoint word sets S1, S2, S3 per sample (each word goes to one of S1, S2, S3 or none,
/// uniformly: our reading of the reference's `sample_subset`), v the log-odds of the class (or next token)
/// predicted on the unmasked sentence, masked words' embeddings replaced by b. SGD with momentum as torch's
/// (buf ← μ·buf + g, b ← b − lr·buf), one step per sample per epoch, b initialised from a token's embedding.
///
/// The reference differentiates L by autograd; Harsanyi runs forward passes only, so ∂L/∂b_j is the central
/// difference [L(b + h·e_j) − L(b − h·e_j)] / 2h with the draws held fixed: 4·D·(2H + 1) masked forwards per
/// sample and step, in batches on the CPU path or OpenCL (a minute per step for H = 768 on one CPU core; the
/// truncation error is O(h²), the float32 noise about ε·|v|/h).
public struct BaselineLearner {
    /// One sentence: what runs after its word embeddings, the embeddings [L, H], its words, the target.
    public struct Sample {
        public let plan: SuffixPlan
        public let runner: BatchRunner
        public let words: [[Int]]
        public let target: Int
        public init(plan: SuffixPlan, runner: BatchRunner, words: [[Int]], target: Int) {
            self.plan = plan
            self.runner = runner
            self.words = words
            self.target = target
        }
        var width: Int { plan.sampleShape.last ?? 1 }
    }

    /// One draw: bit masks over the sample's words.
    public struct Draw: Equatable, Sendable {
        public let s1: Int, s2: Int, s3: Int
        public init(s1: Int, s2: Int, s3: Int) {
            self.s1 = s1
            self.s2 = s2
            self.s3 = s3
        }
        /// The four word sets kept, with the sign each v takes in the loss.
        var terms: [(kept: Int, sign: Double)] { [(s1 | s2 | s3, 1), (s1 | s3, -1), (s2 | s3, -1), (s3, 1)] }
    }

    /// `count` draws over `words` words: each word to S1, S2, S3 or none with probability 1/4.
    public static func draws(count: Int, words: Int, rng: inout SplitMix64) -> [Draw] {
        (0..<count).map { _ in
            var s = [0, 0, 0, 0]
            for k in 0..<words { s[Int.random(in: 0..<4, using: &rng)] |= 1 << k }
            return Draw(s1: s[0], s2: s[1], s3: s[2])
        }
    }

    /// L(b) and its central-difference gradient (step `h`) on one sample, from one set of masked forwards.
    public static func lossAndGradient(_ x: Sample, baseline b: [Float], draws: [Draw], step h: Float) throws
        -> (loss: Double, gradient: [Double])
    {
        let width = x.width
        let size = x.plan.sampleValue.count
        let length = size / width
        guard b.count == width else {
            throw HarsanyiError.invalidArgument("the baseline has \(b.count) values; embeddings have \(width)")
        }
        // Rows: for each probe (b, then b ± h·e_j) and each draw's four sets, the embeddings with every token of an
        // absent word set to the probe's baseline.
        let probes = 1 + 2 * width
        let sets = draws.flatMap { $0.terms.map(\.kept) }
        let rows = probes * sets.count
        var masked = [[Int]](repeating: [], count: sets.count)  // token positions replaced, per set
        for (i, kept) in sets.enumerated() {
            for (k, w) in x.words.enumerated() where kept & (1 << k) == 0 { masked[i] += w }
        }
        var v = [Double](repeating: 0, count: rows)
        let chunk = 256
        var start = 0
        while start < rows {
            let count = min(chunk, rows - start)
            let y = try x.runner.run(count: count, sampleShape: x.plan.sampleShape) { buffer in
                for r in 0..<count {
                    let row = start + r
                    let probe = row / sets.count
                    let set = row % sets.count
                    let base = buffer.baseAddress! + r * size
                    base.update(from: x.plan.sampleValue, count: size)
                    for p in masked[set] where p < length {
                        for j in 0..<width { base[p * width + j] = b[j] }
                        if probe > 0 { base[p * width + (probe - 1) / 2] += probe % 2 == 1 ? h : -h }
                    }
                }
            }
            let out = y.floats
            let classes = out.count / count
            for r in 0..<count {
                let row = out[(r * classes)..<((r + 1) * classes)]
                guard row.allSatisfy(\.isFinite) else {
                    throw HarsanyiError.invalidArgument("the model output has NaN or infinite values")
                }
                v[start + r] = RewardKind.logOdds.value(row, target: x.target)
            }
            start += count
        }
        func loss(_ probe: Int) -> Double {
            var total = 0.0
            for (d, draw) in draws.enumerated() {
                var inner = 0.0
                for (t, term) in draw.terms.enumerated() { inner += term.sign * v[probe * sets.count + 4 * d + t] }
                total += abs(inner)
            }
            return total / Double(max(draws.count, 1))
        }
        let gradient = (0..<width).map { j in (loss(1 + 2 * j) - loss(2 + 2 * j)) / (2 * Double(h)) }
        return (loss(0), gradient)
    }

    /// One step of SGD with momentum as torch.optim.SGD: buf ← μ·buf + g, b ← b − lr·buf.
    public static func sgdStep(
        _ b: inout [Double], buffer: inout [Double], gradient g: [Double], learningRate: Double, momentum: Double
    ) {
        for j in b.indices {
            buffer[j] = momentum * buffer[j] + g[j]
            b[j] -= learningRate * buffer[j]
        }
    }

    /// SGD with momentum over the samples for `epochs` epochs from `initial`; `report` gets (epoch, mean loss)
    /// after each epoch (the loss at each step's b before the step, averaged over the samples). Returns b and the
    /// losses per epoch.
    public static func learn(
        _ samples: [Sample], initial: [Float], epochs: Int, learningRate: Double = 1e-3, momentum: Double = 0.9,
        drawsPerSample: Int = 10, step: Float = 1e-2, seed: UInt64 = 0, report: ((Int, Double) -> Void)? = nil
    ) throws -> (baseline: [Float], losses: [Double]) {
        var b = initial.map(Double.init)
        var buffer = [Double](repeating: 0, count: b.count)
        var rng = SplitMix64(seed: seed)
        var losses: [Double] = []
        for epoch in 0..<epochs {
            var total = 0.0
            for x in samples {
                let draws = Self.draws(count: drawsPerSample, words: x.words.count, rng: &rng)
                let (l, g) = try lossAndGradient(x, baseline: b.map { Float($0) }, draws: draws, step: step)
                total += l
                sgdStep(&b, buffer: &buffer, gradient: g, learningRate: learningRate, momentum: momentum)
            }
            let mean = total / Double(max(samples.count, 1))
            losses.append(mean)
            report?(epoch + 1, mean)
        }
        return (b.map { Float($0) }, losses)
    }
}
