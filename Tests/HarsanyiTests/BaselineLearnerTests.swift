import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiTestSupport
import Testing

/// The learned baseline (`BaselineLearner`) against torch autograd on the trained BERT fixture: the loss over 10
/// fixed draws of (S1, S2, S3), its gradient at two points, and two steps of SGD with momentum
/// (Tests/Tools/make_text_fixtures.py --baseline-reference, the model in float64).
@Suite("learned baseline embedding against torch autograd")
struct BaselineLearnerTests {
    static let c = TextCase(family: "bert", exporter: "legacy17")
    /// The loss is a mean of |v sums| of float32 forwards (v to ~1e-6 of float64 here): 1e-5 absolute.
    static let lossTolerance = 1e-5
    /// Central differences with h = 1e-2 on float32 forwards: the O(h²) truncation is 2.9e-3 and 5e-4 of the
    /// gradient's norm at the two points (torch's own central differences, float64 alike); a wrong sign,
    /// coordinate or masked position is O(1).
    static let gradientTolerance = 1e-2

    static func sample() throws -> BaselineLearner.Sample {
        let m = try c.model()
        let ids = try c.npy("input_ids.npy")
        let plan = try SuffixPlan(model: m, start: try TokenEmbedding(model: m).output, sample: ids)
        let full = try m.run(ids).asFloats
        let y = full.indices.max { full[$0] < full[$1] }!
        let words = try WordPlayers(file: c.url("words.json")).words
        return .init(plan: plan, runner: CPUSuffixRunner(plan), words: words, target: y)
    }

    static func draws() throws -> [BaselineLearner.Draw] {
        let d = try c.reference("baseline_draws").map { Int($0) }
        return stride(from: 0, to: d.count, by: 3).map { .init(s1: d[$0], s2: d[$0 + 1], s3: d[$0 + 2]) }
    }

    static func rows(_ key: String) throws -> [[Double]] {
        let a = try c.reference(key)
        let h = a.count / 2
        return [Array(a[0..<h]), Array(a[h...])]
    }

    static func norm(_ x: [Double]) -> Double { sqrt(x.reduce(0) { $0 + $1 * $1 }) }

    @Test("loss and central-difference gradient match autograd at two points")
    func gradient() throws {
        let x = try Self.sample()
        let draws = try Self.draws()
        let points = try Self.rows("baseline_points")
        let grads = try Self.rows("baseline_grad")
        let losses = try Self.c.reference("baseline_loss")
        for k in 0..<2 {
            let (l, g) = try BaselineLearner.lossAndGradient(
                x, baseline: points[k].map { Float($0) }, draws: draws, step: 1e-2)
            #expect(abs(l - losses[k]) <= Self.lossTolerance, "point \(k): loss \(l) vs \(losses[k])")
            let error = Self.norm(zip(g, grads[k]).map { $0 - $1 })
            #expect(
                error <= Self.gradientTolerance * Self.norm(grads[k]),
                "point \(k): |g − g_torch| = \(error), |g_torch| = \(Self.norm(grads[k]))")
        }
    }

    @Test("two steps of SGD with momentum follow torch.optim.SGD")
    func sgd() throws {
        let x = try Self.sample()
        let draws = try Self.draws()
        let want = try Self.rows("baseline_sgd")
        var b = try Self.rows("baseline_points")[0]
        var buffer = [Double](repeating: 0, count: b.count)
        for k in 0..<2 {
            let (_, g) = try BaselineLearner.lossAndGradient(x, baseline: b.map { Float($0) }, draws: draws, step: 1e-2)
            BaselineLearner.sgdStep(&b, buffer: &buffer, gradient: g, learningRate: 1e-3, momentum: 0.9)
            let moved = Self.norm(zip(want[k], try Self.rows("baseline_points")[0]).map { $0 - $1 })
            let error = Self.norm(zip(b, want[k]).map { $0 - $1 })
            #expect(error <= Self.gradientTolerance * moved, "step \(k + 1): off by \(error) of a move of \(moved)")
        }
    }

    @Test("draws are disjoint, cover only the words, and depend on the seed only")
    func draws() {
        var a = SplitMix64(seed: 3)
        var b = SplitMix64(seed: 3)
        let d = BaselineLearner.draws(count: 50, words: 9, rng: &a)
        #expect(d == BaselineLearner.draws(count: 50, words: 9, rng: &b))
        for x in d {
            #expect(x.s1 & x.s2 == 0 && x.s1 & x.s3 == 0 && x.s2 & x.s3 == 0 && (x.s1 | x.s2 | x.s3) < 1 << 9)
        }
        #expect(Set(d.map(\.s3)).count > 10, "draws barely vary")
    }
}
