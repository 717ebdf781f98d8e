import Foundation
import HarsanyiCore

/// Interactions shared by several models (Chen et al., ICLR 2024; spec §9): the AND-OR decompositions of m models'
/// rewards on the same sample, extracted jointly so that the models agree where they can.
///
/// For model i, v_and^(i) = ½(v_i + q_i) + p_share + p_i and v_or^(i) = ½(v_i + q_i) − p_share − p_i, with
/// |q_i| ≤ qthres·|v_i(N) − v_i(∅)| (noise, as in one model), |p_i| ≤ c_i (the model's own part; c_i is
/// pthres·|mean over the study's samples of v_i(N) − v_i(∅)|, |·| where the reference code has the signed mean: see
/// spec §9's pitfall) and p_share free. The loss over the 2^(n+1) columns j = (op, S) is
/// ```
/// L = Σ_j (1 − α)·max_i |I^(i)_j| + α·Σ_i |I^(i)_j|
/// ```
/// a column costs little more for m models than for one when the models agree on it.
///
/// Optimisers: `exact` (the linear program `JointLP`, certified by CLP; dense, so for n ≤ `exactLimit` by default)
/// and `sgd` (the reference code's optimiser, `JointSGD`). `auto` takes exact where n ≤ `exactLimit`.
public enum JointDecomposition {
    public enum Optimizer: String, Sendable, CaseIterable { case auto, exact, sgd }

    public struct Settings: Sendable {
        public var alpha = 0.1
        public var qthres = 0.02
        public var pthres = 0.5
        public var optimizer = Optimizer.auto
        /// The reference: 20000 iterations, momentum 0.9, constant lr.
        public var iterations = 20_000
        public var momentum = 0.9
        /// nil: `JointSGD.defaultLearningRate` for the rewards' scale.
        public var lr: Double? = nil
        public var timeLimit = 600.0
        public init() {}

        func validate() throws {
            guard alpha >= 0, alpha <= 1 else { throw HarsanyiError.invalidArgument("--alpha must be in [0, 1]") }
            guard qthres > 0, qthres.isFinite else { throw HarsanyiError.invalidArgument("--qthres must be > 0") }
            guard pthres >= 0, pthres.isFinite else { throw HarsanyiError.invalidArgument("--pthres must be >= 0") }
            guard iterations >= 1 else { throw HarsanyiError.invalidArgument("--iterations must be at least 1") }
            if let lr, !(lr > 0 && lr.isFinite) { throw HarsanyiError.invalidArgument("--lr must be > 0") }
        }
    }

    /// The largest n `auto` solves exactly: the LP has about 4·m·3^n non-zeros (m = 3, n = 8: 0.2 million).
    public static let exactLimit = 8
    /// `--optimizer exact` given explicitly goes up to here (the time limit still applies).
    public static let exactHardLimit = 10

    public struct Result: Sendable {
        public var n: Int
        /// Per model, before the reorganisation of spec §5.3 (the loss is defined on these).
        public var iand: [[Double]], ior: [[Double]]
        public var pShare: [Double]
        public var p: [[Double]], q: [[Double]]
        public var loss: Double
        public var solver: String
        public var status: String
        public var iterations: Int
        public var seconds: Double

        /// Each model's (I_and, I_or) after the reorganisation of spec §5.3 (∅ and singletons into AND).
        public var reorganized: [(iand: [Double], ior: [Double])] {
            zip(iand, ior).map { a, o in
                var (x, y) = (a, o)
                Sparsifier.reorganize(&x, &y)
                return (x, y)
            }
        }
    }

    /// The joint loss L of per-model interactions.
    public static func loss(iand: [[Double]], ior: [[Double]], alpha: Double) -> Double {
        var total = 0.0
        for rows in [iand, ior] {
            for j in rows[0].indices {
                var largest = 0.0
                var sum = 0.0
                for row in rows {
                    largest = max(largest, abs(row[j]))
                    sum += abs(row[j])
                }
                total += (1 - alpha) * largest + alpha * sum
            }
        }
        return total
    }

    /// Extracts jointly from m ≥ 2 reward vectors of 2^n values (one per model, same sample and players);
    /// `pBound[i]` = c_i.
    public static func run(v: [[Double]], pBound: [Double], settings: Settings) throws -> Result {
        try settings.validate()
        guard v.count >= 2 else { throw HarsanyiError.invalidArgument("a joint extraction needs two models or more") }
        guard let n = Subsets.playerCount(forLength: v[0].count), v.allSatisfy({ $0.count == v[0].count }) else {
            throw HarsanyiError.invalidArgument("the models' reward vectors must all hold 2^n values for the same n")
        }
        guard pBound.count == v.count, pBound.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw HarsanyiError.invalidArgument("one finite p bound >= 0 per model is needed")
        }
        let lps = try v.map { try DecompositionLP(v: $0, mode: .pq, qthres: settings.qthres) }
        let qBound = lps.map(\.bound)
        let start = DispatchTime.now().uptimeNanoseconds
        var solver = settings.optimizer
        if solver == .auto { solver = n <= exactLimit ? .exact : .sgd }
        var r: Result
        switch solver {
        case .exact:
            guard n <= exactHardLimit else {
                throw HarsanyiError.unsupported(
                    "the exact joint optimum is practical up to n = \(exactHardLimit) here (n = \(n)); use sgd")
            }
            let s: JointLP.Solution
            do {
                s = try JointLP.solve(
                    v: v, qBound: qBound, pBound: pBound, alpha: settings.alpha, timeLimit: settings.timeLimit)
            } catch let failure as ExactDecomposition.Failure {
                throw HarsanyiError.unsupported(failure.description)
            }
            var p = [[Double]]()
            var q = [[Double]]()
            for (i, lp) in lps.enumerated() {
                let a = HostButterfly.apply(.zeta, s.iand[i])
                let o = lp.orInverse(s.ior[i])
                q.append(v[i].indices.map { a[$0] + o[$0] - v[i][$0] })
                p.append(v[i].indices.map { (a[$0] - o[$0]) / 2 - s.pShare[$0] })
            }
            r = Result(
                n: n, iand: s.iand, ior: s.ior, pShare: s.pShare, p: p, q: q,
                loss: loss(iand: s.iand, ior: s.ior, alpha: settings.alpha),
                solver: "exact (\(ClpModel.version), the whole LP)", status: "optimal", iterations: s.iterations,
                seconds: 0)
        default:
            r = try JointSGD.run(lps: lps, pBound: pBound, settings: settings)
        }
        r.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return r
    }
}
