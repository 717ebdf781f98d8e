import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiSolvers
import HarsanyiTestSupport
import Testing

/// The optima of `Tests/Fixtures/optimum/optima.json`, computed by scipy's HiGHS on the sparse LP of spec §5.4
/// (`Tests/Tools/lp_oracle.py`, an independent formulation: variables v_and, v_or and split M·v, not interactions).
struct OracleCase: CustomStringConvertible, Sendable {
    var name: String, path: String, mode: InteractionMode, subtracted: Bool, optimum: Double
    var description: String { "\(name) \(mode) \(subtracted ? "v-v(0)" : "raw")" }

    var v: [Double] {
        get throws {
            let raw = try NPY.read(
                SparsifierFixture.root.deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent(path).path
            ).doubles()
            return subtracted ? raw.map { $0 - raw[0] } : raw
        }
    }

    static let all: [OracleCase] = {
        let url = SparsifierFixture.root.appendingPathComponent("optimum/optima.json")
        guard let data = try? Data(contentsOf: url),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let vectors = json["vectors"] as? [String: [String: Any]]
        else { return [] }
        var out: [OracleCase] = []
        for (name, entry) in vectors.sorted(by: { $0.key < $1.key }) {
            guard let path = entry["path"] as? String, let optima = entry["optima"] as? [[String: Any]] else {
                continue
            }
            for o in optima {
                guard let m = (o["mode"] as? String).flatMap(InteractionMode.init(rawValue:)),
                    let value = o["optimum"] as? Double
                else { continue }
                out.append(
                    OracleCase(
                        name: name, path: path, mode: m, subtracted: (o["v"] as? String) != "raw", optimum: value))
            }
        }
        return out
    }()
}

/// Relative agreement with the oracle: both are simplex vertices of the same LP solved to tolerances of about
/// 1e-9 absolute on entries of size ≤ 20; 1e-9 relative would still flag a wrong row, column or sign (the
/// smallest effect of one wrong entry on these vectors is above 1e-6 relative).
let oracleTolerance = 1e-9

@Suite("Certified decomposition: exact optimum, null players, PDLP bound")
struct CertifiedTests {
    func settings(_ mode: InteractionMode, _ optimizer: SparsifierOptimizer) -> InteractionSettings {
        var s = InteractionSettings()
        s.mode = mode
        s.optimizer = optimizer
        return s
    }

    @Test("the oracle fixture holds all its cases (none may vanish from the arguments below)")
    func fixturePresent() {
        #expect(OracleCase.all.count >= 60, "optima.json has \(OracleCase.all.count) cases")
    }

    /// Below this fraction of the largest entry, a solution entry counts as zero in the vertex check.
    let vertexZero = 1e-10

    @Test(
        "exact matches scipy HiGHS to 1e-9 relative, certifies itself, is feasible and a vertex",
        arguments: OracleCase.all.filter {
            $0.mode != .p || $0.name.hasPrefix("synthetic") || $0.description.hasSuffix("s517 p raw")
        })
    func exactMatchesOracle(c: OracleCase) throws {
        let v = try c.v
        var s = settings(c.mode, .exact)
        s.reduceNullPlayers = false
        let lp = try DecompositionLP(v: v, mode: c.mode, qthres: s.qthres)
        let x = try ExactDecomposition.solve(lp)
        let scale = max(1, c.optimum)
        #expect(abs(x.loss - c.optimum) <= oracleTolerance * scale, "\(c): exact \(x.loss) vs HiGHS \(c.optimum)")
        #expect(abs(x.lowerBound - c.optimum) <= oracleTolerance * scale, "\(c): bound \(x.lowerBound)")
        #expect(lp.infeasibility(iand: x.iand, ior: x.ior) <= 1e-9 * max(1, v.map(abs).max()!), "\(c): infeasible")
        // A basic solution has at most one non-zero per row of the master. Entries below `vertexZero` of the largest
        // are round-off of the simplex (CLP's tolerances are 1e-9 and up): on some machines' BLAS kernels two basic
        // entries of this problem land at 1e-12 instead of 0 (breast_cancer s517 p raw: 1026 "non-zeros" for 1025
        // rows, the next smallest 1.3e-9).
        let largest = (x.iand + (x.ior ?? [])).map(abs).max() ?? 0
        let nonzeros = (x.iand + (x.ior ?? [])).filter { abs($0) > vertexZero * max(1, largest) }.count
        #expect(nonzeros <= x.rows, "\(c): \(nonzeros) non-zeros for \(x.rows) rows: not a vertex")
        // p and q reproduce the interactions through the reference parametrisation.
        let (p, q) = lp.parameters(iand: x.iand, ior: x.ior)
        #expect(abs(lp.loss(p: p, q: q) - x.loss) <= 1e-9 * scale, "\(c): loss from p, q")
    }

    @Test(
        "null players on OpenCL: found by the device kernel in float32 and float64",
        .enabled(if: TestBackends.openCLByStyle.values.first?.supports(.float64) == true, Self.float64Skip))
    func nullPlayersOpenCL() throws {
        let null = try #require(
            OracleCase.all.first { $0.name == "synthetic_n8_null_2_5" && $0.mode == .pq && !$0.subtracted })
        let v = try null.v
        let cl = TestBackends.opencl(.cpuStyle)
        for precision in [Precision.float32, .float64] {
            let b = try cl.makeBuffer(count: v.count, precision: precision)
            if precision == .float32 { try cl.write(v.map { Float($0) }, to: b) } else { try cl.write(v, to: b) }
            #expect(try cl.nullPlayers(b) == [2, 5], "OpenCL \(precision)")
        }
    }

    @Test("null players on the CPU path: found, removal exact (reduced = full LP = the n = 6 source's optimum)")
    func nullPlayers() throws {
        let null = try #require(
            OracleCase.all.first { $0.name == "synthetic_n8_null_2_5" && $0.mode == .pq && !$0.subtracted })
        let source = try #require(
            OracleCase.all.first { $0.name == "synthetic_n6_planted" && $0.mode == .pq && !$0.subtracted })
        let v = try null.v
        #expect(NullPlayers.find(v) == [2, 5])
        var perturbed = v
        perturbed[1 << 5] += 1e-12  // {5} and {2, 5} differ from ∅ and {2}: player 5 is no longer null, 2 still is
        perturbed[1 << 5 | 1 << 2] += 1e-12
        #expect(NullPlayers.find(perturbed) == [2])
        let reduced = try Decomposition.run(v: v, settings: settings(.pq, .exact), backend: TestBackends.cpu)
        var s = settings(.pq, .exact)
        s.reduceNullPlayers = false
        let fullRun = try Decomposition.run(v: v, settings: s, backend: TestBackends.cpu)
        #expect(reduced.nullPlayers == [2, 5] && reduced.optimality?.solvedPlayers == 6)
        let l1 = try #require(reduced.optimality?.loss)
        let l2 = try #require(fullRun.optimality?.loss)
        #expect(abs(l1 - source.optimum) <= oracleTolerance * source.optimum && abs(l2 - l1) <= oracleTolerance * l1)
        // Lifted back: nothing containing a null player, and v is reproduced within the noise bound.
        for t in 0..<v.count where t & (1 << 2 | 1 << 5) != 0 { #expect(reduced.iand[t] == 0 && reduced.ior[t] == 0) }
        let lp = try DecompositionLP(v: v, mode: .pq, qthres: 0.04)
        #expect(abs(lp.loss(p: reduced.p, q: reduced.q) - l1) <= 1e-9 * l1)
    }

    @Test(
        "scale and shift: L*(c·v) = |c|·L*(v); |L*(v + c) − L*(v)| ≤ |c| (M·1 = e_∅, the bound unchanged)",
        arguments: [InteractionMode.pq, .q, .p])
    func invariance(mode: InteractionMode) throws {
        var rng = SplitMix64(seed: seed(8, 1))
        let v = rng.uniform(1 << 7).map { 3 * $0 }
        let base = try ExactDecomposition.solve(DecompositionLP(v: v, mode: mode, qthres: 0.04)).loss
        for c in [1000.0, -0.01] {
            let scaled = try ExactDecomposition.solve(DecompositionLP(v: v.map { $0 * c }, mode: mode, qthres: 0.04))
                .loss
            #expect(
                abs(scaled - abs(c) * base) <= 1e-9 * abs(c) * base, "\(mode) scale \(c): \(scaled) vs \(abs(c) * base)"
            )
        }
        let shifted = try ExactDecomposition.solve(DecompositionLP(v: v.map { $0 + 2.5 }, mode: mode, qthres: 0.04))
            .loss
        #expect(abs(shifted - base) <= 2.5 + 1e-9, "\(mode) shift: \(shifted) vs \(base)")
    }

    @Test(
        "pdlp on the CPU path: bound never above the optimum, loss never below it; small n certified",
        arguments: ["synthetic_n4_planted", "synthetic_n6_gaussian", "breast_cancer_mlp_n10_s517"])
    func pdlpCPU(name: String) throws { try pdlp(name: name, backends: [TestBackends.cpu]) }

    @Test(
        "pdlp on OpenCL (float64) as on the CPU path, and both backends agree",
        .enabled(if: TestBackends.openCLByStyle.values.first?.supports(.float64) == true, Self.float64Skip),
        arguments: ["synthetic_n4_planted", "synthetic_n6_gaussian", "breast_cancer_mlp_n10_s517"])
    func pdlpOpenCL(name: String) throws {
        try pdlp(name: name, backends: [TestBackends.cpu, TestBackends.opencl(.cpuStyle)])
    }

    static let float64Skip: Comment = "no OpenCL device with float64 (cl_khr_fp64): \(TestBackends.skipReason)"

    func pdlp(name: String, backends: [any SparsifierOps]) throws {
        let c = try #require(OracleCase.all.first { $0.name == name && $0.mode == .pq && $0.subtracted })
        var s = settings(.pq, .pdlp)
        s.precision = .float64
        s.iterations = name.hasPrefix("synthetic_n4") ? 40_000 : 3_000
        s.gapTolerance = 1e-3
        var losses: [Double] = []
        for backend in backends {
            let r = try Decomposition.run(v: try c.v, settings: s, backend: backend)
            let o = try #require(r.optimality)
            let bound = try #require(o.lowerBound)
            #expect(
                bound <= c.optimum * (1 + 1e-9),
                "\(c) on \(backend.kind): bound \(bound) above the optimum \(c.optimum)")
            #expect(o.loss >= c.optimum * (1 - 1e-9), "\(c) on \(backend.kind): loss \(o.loss) below the optimum")
            if name.hasPrefix("synthetic_n4") {
                #expect(o.status == "gap tolerance reached" && o.gap! <= 1e-3, "\(c): \(o)")
            }
            losses.append(o.loss)
        }
        if losses.count == 2 { #expect(abs(losses[0] - losses[1]) <= 1e-9 * losses[0], "CPU vs OpenCL: \(losses)") }
    }

    @Test("pdlp is scale-free: v and 1000·v give the same iterates up to round-off (loss and bound ×1000)")
    func pdlpScale() throws {
        let c = try #require(
            OracleCase.all.first { $0.name == "synthetic_n6_planted" && $0.mode == .pq && !$0.subtracted })
        var s = settings(.pq, .pdlp)
        s.precision = .float64
        s.iterations = 640
        s.gapTolerance = 0
        let v = try c.v
        let a = try #require(try Decomposition.run(v: v, settings: s, backend: TestBackends.cpu).optimality)
        let b = try #require(
            try Decomposition.run(v: v.map { $0 * 1000 }, settings: s, backend: TestBackends.cpu).optimality)
        // Float64 iterates of v/max|v| and 1000v/max|1000v| differ in the last bits only; 1e-9 leaves room for growth.
        #expect(
            abs(b.loss - 1000 * a.loss) <= 1e-9 * b.loss && abs(b.lowerBound! - 1000 * a.lowerBound!) <= 1e-9 * b.loss,
            "loss \(a.loss) vs \(b.loss), bound \(a.lowerBound!) vs \(b.lowerBound!)")
    }

    @Test(
        "the reference optimisers never beat the optimum (their loss recomputed in Double), and report no bound",
        arguments: [SparsifierOptimizer.sgd, .adam, .pdhg])
    func referenceAboveOptimum(optimizer: SparsifierOptimizer) throws {
        let c = try #require(
            OracleCase.all.first { $0.name == "breast_cancer_mlp_n10_s532" && $0.mode == .pq && !$0.subtracted })
        var s = settings(.pq, optimizer)
        s.iterations = 300
        let r = try Decomposition.run(v: try c.v, settings: s, backend: TestBackends.cpu)
        let o = try #require(r.optimality)
        #expect(o.lowerBound == nil && o.loss >= c.optimum * (1 - 1e-9), "\(optimizer): \(o.loss) vs \(c.optimum)")
    }

    @Test("bad input: NaN, a zero noise bound in mode pq, exact past its limit")
    func badInput() throws {
        let cpu = TestBackends.cpu
        #expect(throws: HarsanyiError.self) {
            try Decomposition.run(v: [0, 1, .nan, 2], settings: settings(.pq, .auto), backend: cpu)
        }
        #expect(throws: HarsanyiError.self) {
            try Decomposition.run(v: [1, 2, 3, 1], settings: settings(.pq, .exact), backend: cpu)
        }
        var rng = SplitMix64(seed: seed(17, 2))
        let big = rng.uniform(1 << (Decomposition.exactHardLimit + 1))
        do {
            _ = try Decomposition.run(v: big, settings: settings(.pq, .exact), backend: cpu)
            Issue.record("an exact solve past the limit ran")
        } catch let e as HarsanyiError {
            #expect("\(e)".contains("pdlp"), "the error names the alternative: \(e)")
        }
    }
}
