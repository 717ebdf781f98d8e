import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiSolvers
import HarsanyiTestSupport
import Testing

/// The joint extraction of several models (spec §9) and the shared-interaction metrics.
@Suite("Joint extraction")
struct JointTests {
    static func rewards(n: Int, seed s: UInt64) -> [Double] {
        var rng = SplitMix64(seed: s)
        var v = HostButterfly.apply(.zeta, rng.uniform(1 << n))  // interactions at every order
        let empty = v[0]
        for i in v.indices { v[i] -= empty }
        return v
    }

    static func settings(_ optimizer: JointDecomposition.Optimizer, iterations: Int = 20_000) -> JointDecomposition.Settings {
        var s = JointDecomposition.Settings()
        s.optimizer = optimizer
        s.iterations = iterations
        return s
    }

    /// CLP's optimum is exact to its tolerances (1e-10 relative to the rewards' scale); the loss sums 2^(n+1) terms.
    static let lpTolerance = 1e-8

    @Test("two copies of one model: each joint part is a single-model optimum, loss (1 + α)·L*, s_and = s_or = 1", arguments: [4, 5, 6])
    func copiesEqualSingle(n: Int) throws {
        for trial in 0..<3 {
            let s = seed(n, trial, 201)
            let v = Self.rewards(n: n, seed: s)
            var single = InteractionSettings()
            single.optimizer = .exact
            single.qthres = 0.02  // the joint reference's noise bound (spec §9); one model's default is 0.04
            let one = try Decomposition.run(v: v, settings: single, backend: TestBackends.cpu)
            let joint = try JointDecomposition.run(v: [v, v], pBound: [0.5, 0.5], settings: Self.settings(.exact))
            let want = (1 + 0.1) * one.optimality!.loss
            #expect(abs(joint.loss - want) <= Self.lpTolerance * want, "seed \(s): joint \(joint.loss) vs (1+α)L* \(want)")
            // The single LP's optimum need not be unique (these random v are degenerate), so the joint solution
            // may be another optimal vertex: each model's interactions must be optimal for one model (‖I‖₁ = L*),
            // and the loss (1 + α)·L* forces |I^(1)| = |I^(2)| entry by entry.
            let tol = 1e-7 * max(1, v.map(abs).max()!)
            for i in 0..<2 {
                let l1 = DecompositionLP.loss(iand: joint.iand[i], ior: joint.ior[i])
                #expect(abs(l1 - one.optimality!.loss) <= Self.lpTolerance * l1, "seed \(s) model \(i): ‖I‖₁ \(l1)")
            }
            expectClose(joint.iand[0].map(abs), joint.iand[1].map(abs), tolerance: tol, "seed \(s) |I_and|")
            expectClose(joint.ior[0].map(abs), joint.ior[1].map(abs), tolerance: tol, "seed \(s) |I_or|")
            // On the parts before the reorganisation of §5.3: |I^(1)| = |I^(2)| holds there (merging ∅ and the
            // singletons into AND could differ where two optimal vertices differ in sign).
            let sample = SharedInteractions.Sample(
                index: 0, target: nil, joint: Array(zip(joint.iand, joint.ior)), single: [(one.iand, one.ior), (one.iand, one.ior)],
                spread: [v.last!, v.last!])
            let metrics = SharedInteractions([sample], n: n)
            #expect(
                metrics.jointAnd.allSatisfy { $0 == 1 } && metrics.jointOr.allSatisfy { $0 == 1 },
                "seed \(s): s_and \(metrics.jointAnd), s_or \(metrics.jointOr)")
        }
    }

    /// Checks the constraints of the joint problem on a result: v_and + v_or = v + q with |q_i| ≤ b_i, and
    /// (v_and − v_or)/2 = p_share + p_i with |p_i| ≤ c_i.
    func expectFeasible(_ r: JointDecomposition.Result, v: [[Double]], pBound: [Double], _ context: String) throws {
        for i in v.indices {
            let lp = try DecompositionLP(v: v[i], mode: .pq, qthres: 0.02)
            let a = HostButterfly.apply(.zeta, r.iand[i])
            let o = lp.orInverse(r.ior[i])
            let tol = 1e-8 * max(1, v[i].map(abs).max()!)
            for s in v[i].indices {
                let q = a[s] + o[s] - v[i][s]
                let p = (a[s] - o[s]) / 2 - r.pShare[s]
                #expect(abs(q) <= lp.bound + tol && abs(p) <= pBound[i] + tol, "\(context) model \(i) S \(s): q \(q) p \(p)")
            }
        }
    }

    @Test("three different models: the exact joint solution is feasible, and the reference SGD's loss is not below it")
    func exactIsLowerBoundForSGD() throws {
        for n in [4, 5] {
            let s = seed(n, 202)
            let v = (0..<3).map { Self.rewards(n: n, seed: s &+ UInt64($0)) }
            let pBound = v.map { 0.5 * abs($0.last!) }
            let exact = try JointDecomposition.run(v: v, pBound: pBound, settings: Self.settings(.exact))
            try expectFeasible(exact, v: v, pBound: pBound, "exact n \(n) seed \(s)")
            #expect(abs(exact.loss - JointDecomposition.loss(iand: exact.iand, ior: exact.ior, alpha: 0.1)) < 1e-12)
            let sgd = try JointDecomposition.run(v: v, pBound: pBound, settings: Self.settings(.sgd, iterations: 3000))
            try expectFeasible(sgd, v: v, pBound: pBound, "sgd n \(n) seed \(s)")
            #expect(sgd.loss >= exact.loss * (1 - Self.lpTolerance), "n \(n) seed \(s): sgd \(sgd.loss) < exact \(exact.loss)")
            // And SGD made progress from its start (p = q = 0).
            let start = try JointDecomposition.run(v: v, pBound: pBound, settings: Self.settings(.sgd, iterations: 1))
            #expect(sgd.loss < start.loss, "n \(n) seed \(s): sgd \(sgd.loss) vs start \(start.loss)")
        }
    }

    @Test("bad input: one model, different n, a negative p bound")
    func badInput() {
        let v = Self.rewards(n: 3, seed: 7)
        #expect(throws: HarsanyiError.self) { try JointDecomposition.run(v: [v], pBound: [1], settings: .init()) }
        #expect(throws: HarsanyiError.self) {
            try JointDecomposition.run(v: [v, Self.rewards(n: 4, seed: 8)], pBound: [1, 1], settings: .init())
        }
        #expect(throws: HarsanyiError.self) { try JointDecomposition.run(v: [v, v], pBound: [1, -1], settings: .init()) }
    }

    @Test("s_and and s_or count the top-k overlap by hand; shared means salient in all models with one sign")
    func metricsByHand() {
        // n = 3: 8 AND and 8 OR entries. k = ⌊r·8⌋: r = 0.25 → 2, r = 0.45 → 3.
        let a1 = [0.0, 9, 8, 7, 1, 1, 1, 1], a2 = [0.0, 9, 1, 8, 7, 1, 1, 1]
        let o1 = [0.0, 0, 0, 0, 0, 0, 5, -4], o2 = [0.0, 0, 0, 0, 0, 0, 5, 4]
        let sample = SharedInteractions.Sample(
            index: 0, target: 1, joint: [(a1, o1), (a2, o2)], single: [(a1, o1), (a1, o1)], spread: [10, 10])
        let m = SharedInteractions([sample], n: 3, tau: 0.3)  // τ = 3 for both models
        let r25 = m.ratios.firstIndex { abs($0 - 0.25) < 1e-12 }!
        let r45 = m.ratios.firstIndex { abs($0 - 0.45) < 1e-12 }!
        #expect(m.jointAnd[r25] == 0.5)  // top-2 {1, 2} and {1, 3}
        #expect(abs(m.jointAnd[r45] - 2.0 / 3) < 1e-15)  // {1, 2, 3} and {1, 3, 4}
        #expect(m.jointOr[r25] == 1)  // {6, 7} both
        #expect(m.singleAnd[r25] == 1)
        // Salient (|I| ≥ 3): AND index 1 = {0}: 9, 9 shared; index 3 = {0,1}: 7, 8 shared; index 2 = {1}: 8 vs 1
        // and index 4 = {2}: 1 vs 7, distinctive of one model each; OR index 6 = {1,2}: 5, 5 shared; OR index 7 =
        // {0,1,2}: −4 vs 4, opposite signs → distinctive in both.
        #expect(m.orders[1].sharedCount == 1 && m.orders[2].sharedCount == 2, "\(m.orders.map(\.sharedCount))")
        #expect(m.orders[1].distinctiveCount == [1, 1], "\(m.orders[1].distinctiveCount)")
        #expect(m.orders[3].distinctiveCount == [1, 1])
        #expect(m.orders[3].distinctiveNegative[0] == -4 && m.orders[3].distinctivePositive[1] == 4)
    }
}
