import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiTestSupport
import Testing

/// A case of `Tests/Fixtures/sparsifier/`: the numpy dense-matrix port of the reference sparsifier.
struct SparsifierFixture: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static var all: [SparsifierFixture] {
        let dir = root.appendingPathComponent("sparsifier").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { SparsifierFixture(name: $0) }
    }

    func array(_ file: String) throws -> [Double] {
        try NPY.read(Self.root.appendingPathComponent("sparsifier/\(name)/\(file).npy").path).doubles()
    }

    func settings() throws -> InteractionSettings {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("sparsifier/\(name)/case.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var s = InteractionSettings()
        s.optimizer = .sgd
        s.mode = InteractionMode(rawValue: json["mode"] as! String)!
        s.qthres = json["qthres"] as! Double
        s.lr = json["lr"] as! Double
        s.iterations = json["iterations"] as! Int
        s.recenterQ = json["qtricks"] as! Bool
        s.precision = .float64
        return s
    }
}

/// Backends the engine tests run on: the CPU path always, OpenCL when a device is visible.
var engineBackends: [any SparsifierOps] {
    [TestBackends.cpu] + (TestBackends.hasOpenCL ? [TestBackends.opencl(.cpuStyle) as any SparsifierOps] : [])
}

/// A planted AND-OR structure plus noise, the kind of v the decomposition should find sparse.
func structuredV(n: Int, seed s: UInt64) -> [Double] {
    var rng = SplitMix64(seed: s)
    let full = (1 << n) - 1
    let terms = (0..<6).map { _ in (Int.random(in: 1...full, using: &rng) & Int.random(in: 1...full, using: &rng), Double.random(in: -2...2, using: &rng)) }
    return (0...full).map { set in
        var x = 0.3
        for (k, (t, w)) in terms.enumerated() {
            x += k % 2 == 0 ? (t & set == t ? w : 0) : (t & set != 0 ? w : 0)
        }
        return x + 0.01 * Double.random(in: -1...1, using: &rng)
    }
}

@Suite("AND-OR engine")
struct SparsifierTests {
    /// float64 on both sides and the same arithmetic per butterfly: the numpy fixtures (computed with dense
    /// matrices) agree to summation-order round-off, about 1e-13 of the values; the margin covers the loss
    /// reduction order and 1-ulp differences of the lr schedule.
    static let fixtureTolerance = 1e-9

    @Test("reproduces the numpy reference sparsifier (float64)", arguments: SparsifierFixture.all)
    func matchesReference(_ fixture: SparsifierFixture) throws {
        let s = try fixture.settings()
        let v = try fixture.array("rewards")
        var wantAnd = try fixture.array("Iand"), wantOr = try fixture.array("Ior")
        Sparsifier.reorganize(&wantAnd, &wantOr)
        let wantLoss = try fixture.array("loss")
        let scale = max(1, v.map(abs).max()!)
        for backend in engineBackends {
            let r = try Sparsifier.run(v: v, settings: s, backend: backend)
            let ctx = "\(fixture.name) on \(backend.deviceDescription)"
            expectClose(r.iand, wantAnd, tolerance: Self.fixtureTolerance * scale, ctx + " Iand")
            expectClose(r.ior, wantOr, tolerance: Self.fixtureTolerance * scale, ctx + " Ior")
            expectClose(r.p, try fixture.array("p"), tolerance: Self.fixtureTolerance * scale, ctx + " p")
            expectClose(r.q, try fixture.array("q"), tolerance: Self.fixtureTolerance * scale, ctx + " q")
            expectClose(r.lossTrace, wantLoss, tolerance: Self.fixtureTolerance * wantLoss.map(abs).max()!, ctx + " loss")
        }
    }

    @Test("OpenCL and CPU paths agree (float32, same arithmetic in the same order)",
          .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason),
          arguments: [(4, InteractionMode.pq, SparsifierOptimizer.sgd), (9, .p, .sgd), (12, .q, .sgd), (12, .pq, .pdhg), (9, .pq, .adam),
                      (16, .pq, .sgd), (7, .none, .sgd), (7, .and, .sgd)])
    func openCLMatchesCPU(n: Int, mode: InteractionMode, optimizer: SparsifierOptimizer) throws {
        var rng = SplitMix64(seed: seed(n, 11))
        for (kind, v) in [("random", rng.uniformValues(1 << n, scale: 3)), ("structured", structuredV(n: n, seed: seed(n, 12)))] {
            var s = InteractionSettings()
            s.optimizer = .sgd
            s.mode = mode
            s.optimizer = optimizer
            s.iterations = n >= 16 ? 30 : 200
            s.lr = optimizer == .adam ? 1e-2 : 1e-4 / Double(1 << max(0, n - 8))
            let cpu = try Sparsifier.run(v: v, settings: s, backend: TestBackends.cpu)
            let cl = try Sparsifier.run(v: v, settings: s, backend: TestBackends.opencl(.cpuStyle))
            let ctx = "n=\(n) \(mode) \(optimizer) \(kind) seed=\(seed(n, 11))"
            // Transforms and steps are bit-identical; sqrt in Adam is correctly rounded on both (OpenCL 1.2 allows
            // 3 ulp for sqrt, so a tolerance of a few float32 ulps of the values stays).
            let tol = 1e-5 * max(1, cpu.iand.map(abs).max()!)
            expectClose(cl.iand, cpu.iand, tolerance: tol, ctx + " Iand")
            expectClose(cl.ior, cpu.ior, tolerance: tol, ctx + " Ior")
            expectClose(cl.p, cpu.p, tolerance: tol, ctx + " p")
            expectClose(cl.q, cpu.q, tolerance: tol, ctx + " q")
            #expect(abs(cl.loss - cpu.loss) <= 1e-4 * max(1, cpu.loss), "\(ctx): loss \(cl.loss) vs \(cpu.loss)")
        }
    }

    @Test("efficiency, universal matching and the ∅ entry", arguments: InteractionMode.allCases)
    func properties(mode: InteractionMode) throws {
        let n = 8
        let v = structuredV(n: n, seed: 5)
        for backend in engineBackends {
            var s = InteractionSettings()
            s.optimizer = .sgd
            s.mode = mode
            s.iterations = 300
            s.lr = 1e-4
            let r = try Sparsifier.run(v: v, settings: s, backend: backend)
            let a = try InteractionAnalysis(r, rule: .relative(0.05))
            // float32 sums of 2^n terms of size ~|v|: a few ulps times n.
            let tol = 1e-5 * Double(n) * max(1, v.map(abs).max()!)
            #expect(abs(r.iand.reduce(0, +) + r.ior.reduce(0, +) - (v.last! + r.q.last!)) <= tol, "\(mode): Σ I ≠ v(N) + q(N)")
            #expect(a.matchingMaxAbs <= tol, "\(mode): universal matching error \(a.matchingMaxAbs)")
            #expect(r.q.allSatisfy { abs($0) <= s.qthres * abs(v.last! - v[0]) * (1 + 1e-6) }, "\(mode): q outside its bound")
            if mode == .and { expectClose(r.iand, Reference.transform(.and, v), tolerance: tol, "and = Möbius(v)") }
            if mode == .none {
                expectClose(r.iand.indices.map { r.iand[$0] + r.ior[$0] }, zip(Reference.transform(.and, v), Reference.transform(.or, v)).enumerated().map {
                    // reorganised: |S| <= 1 holds both halves in AND
                    $0.offset & ($0.offset - 1) == 0 ? 0.5 * ($0.element.0 + $0.element.1) : 0.5 * ($0.element.0 + $0.element.1)
                }, tolerance: tol, "none = ½M_and v + ½M_or v")
            }
        }
    }

    @Test("I_and(S ≠ ∅) is invariant to adding a constant to v", arguments: [InteractionMode.and, .none, .pq])
    func constantShift(mode: InteractionMode) throws {
        // v(∅) far from 0 keeps the sign of the ∅ entries (and so the whole trajectory) unchanged by the shift.
        let v = structuredV(n: 7, seed: 9).map { $0 + 40 }
        var s = InteractionSettings()
        s.optimizer = .sgd
        s.mode = mode
        s.iterations = 200
        s.lr = 1e-4
        s.precision = .float64
        let a = try Sparsifier.run(v: v, settings: s, backend: TestBackends.cpu)
        let b = try Sparsifier.run(v: v.map { $0 + 1.5 }, settings: s, backend: TestBackends.cpu)
        expectClose(Array(b.iand.dropFirst()), Array(a.iand.dropFirst()), tolerance: 1e-9, "\(mode)")
        #expect(abs(b.iand[0] - a.iand[0] - 1.5) <= 1e-9)
    }

    @Test("bad input: wrong length, NaN/Inf, too large for memory, bad settings")
    func badInput() throws {
        var s = InteractionSettings()
        s.optimizer = .sgd
        #expect(throws: HarsanyiError.self) { try Sparsifier.run(v: [1, 2, 3], settings: s, backend: TestBackends.cpu) }
        #expect(throws: HarsanyiError.self) { try Sparsifier.run(v: [1, .nan], settings: s, backend: TestBackends.cpu) }
        #expect(throws: HarsanyiError.self) { try Sparsifier.run(v: [1, 2, .infinity, 4], settings: s, backend: TestBackends.cpu) }
        let small = CPUBackend(memoryLimit: 1 << 20)
        do {
            _ = try Sparsifier.run(v: [Double](repeating: 1, count: 1 << 16), settings: s, backend: small)
            Issue.record("a job larger than the memory limit ran")
        } catch let e as HarsanyiError {
            guard case .unsupported = e else { Issue.record("wrong error \(e)"); return }
            #expect("\(e)".contains("do not fit"))
        }
        var bad = s
        bad.iterations = 0
        #expect(throws: HarsanyiError.self) { try Sparsifier.run(v: [1, 2], settings: bad, backend: TestBackends.cpu) }
    }

    @Test("salient selection: relative, absolute and top-k")
    func salient() throws {
        var s = InteractionSettings()
        s.optimizer = .sgd
        s.mode = .and
        let v = structuredV(n: 6, seed: 3)
        let r = try Sparsifier.run(v: v, settings: s, backend: TestBackends.cpu)
        let rel = try InteractionAnalysis(r, rule: .relative(0.05))
        let maxAbs = r.iand.map(abs).max()!
        #expect(abs(rel.threshold - 0.05 * maxAbs) < 1e-12)
        #expect(rel.primitives.count == r.iand.filter { abs($0) >= 0.05 * maxAbs }.count)
        #expect(zip(rel.primitives, rel.primitives.dropFirst()).allSatisfy { abs($0.value) >= abs($1.value) })
        let top = try InteractionAnalysis(r, rule: .topK(5))
        #expect(top.primitives.count == 5 && top.primitives.map(\.subset) == Array(rel.primitives.prefix(5)).map(\.subset))
        let absolute = try InteractionAnalysis(r, rule: .absolute(0.1))
        #expect(absolute.primitives.allSatisfy { abs($0.value) >= 0.1 * abs(v.last! - v[0]) })
        let counted = rel.orders.reduce(0) { $0 + $1.salientAnd + $1.salientOr }
        #expect(counted == rel.primitives.count)
    }
}

extension SplitMix64 {
    mutating func uniformValues(_ count: Int, scale: Double) -> [Double] { uniform(count).map { $0 * scale } }
}
