import Foundation
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiTestSupport
import Testing

/// A case of `Tests/Fixtures/sparsifier/`: the numpy dense-matrix port of the reference sparsifier.
struct SparsifierFixture: CustomTestStringConvertible, Sendable {
    let name: String
    var testDescription: String { name }
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static var all: [SparsifierFixture] {
        let dir = root.appendingPathComponent("sparsifier").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map {
            SparsifierFixture(name: $0)
        }
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

/// The engine tests' backends by name: each test runs once per backend, the OpenCL one reported as skipped (with
/// the reason) when no device is visible, never left out silently.
enum EngineBackend {
    static var cpu: any SparsifierOps { TestBackends.cpu }
    static var opencl: any SparsifierOps { TestBackends.opencl(.cpuStyle) }
}

/// A planted AND-OR structure plus noise, the kind of v the decomposition should find sparse.
func structuredV(n: Int, seed s: UInt64) -> [Double] {
    var rng = SplitMix64(seed: s)
    let full = (1 << n) - 1
    let terms = (0..<6).map { _ in
        (
            Int.random(in: 1...full, using: &rng) & Int.random(in: 1...full, using: &rng),
            Double.random(in: -2...2, using: &rng)
        )
    }
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

    @Test("reproduces the numpy reference sparsifier (float64), CPU path", arguments: SparsifierFixture.all)
    func matchesReferenceCPU(_ fixture: SparsifierFixture) throws {
        try matchesReference(fixture, on: EngineBackend.cpu)
    }

    @Test(
        "reproduces the numpy reference sparsifier (float64), OpenCL",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: SparsifierFixture.all)
    func matchesReferenceOpenCL(_ fixture: SparsifierFixture) throws {
        try matchesReference(fixture, on: EngineBackend.opencl)
    }

    func matchesReference(_ fixture: SparsifierFixture, on backend: any SparsifierOps) throws {
        let s = try fixture.settings()
        let v = try fixture.array("rewards")
        var wantAnd = try fixture.array("Iand")
        var wantOr = try fixture.array("Ior")
        Sparsifier.reorganize(&wantAnd, &wantOr)
        let wantLoss = try fixture.array("loss")
        let scale = max(1, v.map(abs).max()!)
        do {
            let r = try Sparsifier.run(v: v, settings: s, backend: backend)
            let ctx = "\(fixture.name) on \(backend.deviceDescription)"
            expectClose(r.iand, wantAnd, tolerance: Self.fixtureTolerance * scale, ctx + " Iand")
            expectClose(r.ior, wantOr, tolerance: Self.fixtureTolerance * scale, ctx + " Ior")
            expectClose(r.p, try fixture.array("p"), tolerance: Self.fixtureTolerance * scale, ctx + " p")
            expectClose(r.q, try fixture.array("q"), tolerance: Self.fixtureTolerance * scale, ctx + " q")
            expectClose(
                r.lossTrace, wantLoss, tolerance: Self.fixtureTolerance * wantLoss.map(abs).max()!, ctx + " loss")
        }
    }

    /// Adam on OpenCL vs the CPU path: 3-ulp sqrt differences, fed through `iterations` updates of size ≤ lr, stay
    /// below 2^-17 of each array's magnitude in these runs by a wide margin (PoCL gives identical bits).
    static let adamRelative = 1.0 / 131_072

    @Test(
        "OpenCL and CPU paths agree (float32, same arithmetic in the same order)",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason),
        arguments: [
            (4, InteractionMode.pq, SparsifierOptimizer.sgd), (9, .p, .sgd), (12, .q, .sgd), (12, .pq, .pdhg),
            (9, .pq, .adam),
            (16, .pq, .sgd), (7, .none, .sgd), (7, .and, .sgd),
        ])
    func openCLMatchesCPU(n: Int, mode: InteractionMode, optimizer: SparsifierOptimizer) throws {
        var rng = SplitMix64(seed: seed(n, 11))
        for (kind, v) in [
            ("random", rng.uniformValues(1 << n, scale: 3)), ("structured", structuredV(n: n, seed: seed(n, 12))),
        ] {
            var s = InteractionSettings()
            s.optimizer = .sgd
            s.mode = mode
            s.optimizer = optimizer
            s.iterations = n >= 16 ? 30 : 200
            s.lr = optimizer == .adam ? 1e-2 : 1e-4 / Double(1 << max(0, n - 8))
            let cpu = try Sparsifier.run(v: v, settings: s, backend: TestBackends.cpu)
            let cl = try Sparsifier.run(v: v, settings: s, backend: TestBackends.opencl(.cpuStyle))
            let ctx = "n=\(n) \(mode) \(optimizer) \(kind) seed=\(seed(n, 11))"
            // The transforms and the elementwise steps are the same operations in the same order on both paths
            // (FP_CONTRACT off, no reductions inside an iteration), so SGD and PDHG must give the same bits. Adam
            // divides by a sqrt, which OpenCL 1.2 lets a device round to 3 ulp: there each array is held to
            // `adamRelative` of its own magnitude (PoCL, correctly rounded, gives the same bits here too).
            for (name, a, b) in [
                ("Iand", cl.iand, cpu.iand), ("Ior", cl.ior, cpu.ior), ("p", cl.p, cpu.p), ("q", cl.q, cpu.q),
            ] {
                if optimizer == .adam {
                    let scale = b.map(abs).max() ?? 0
                    expectClose(a, b, tolerance: Self.adamRelative * scale, "\(ctx) \(name)")
                } else {
                    let differing = zip(a, b).filter { $0 != $1 }.count
                    #expect(
                        differing == 0, "\(ctx) \(name): \(differing) of \(b.count) entries differ from the CPU path")
                }
            }
            #expect(abs(cl.loss - cpu.loss) <= 1e-4 * max(1, cpu.loss), "\(ctx): loss \(cl.loss) vs \(cpu.loss)")
        }
    }

    @Test("efficiency, universal matching and the ∅ entry, CPU path", arguments: InteractionMode.allCases)
    func propertiesCPU(mode: InteractionMode) throws { try properties(mode: mode, on: EngineBackend.cpu) }

    @Test(
        "efficiency, universal matching and the ∅ entry, OpenCL",
        .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason), arguments: InteractionMode.allCases)
    func propertiesOpenCL(mode: InteractionMode) throws { try properties(mode: mode, on: EngineBackend.opencl) }

    func properties(mode: InteractionMode, on backend: any SparsifierOps) throws {
        let n = 8
        let v = structuredV(n: n, seed: 5)
        do {
            var s = InteractionSettings()
            s.optimizer = .sgd
            s.mode = mode
            s.iterations = 300
            s.lr = 1e-4
            let r = try Sparsifier.run(v: v, settings: s, backend: backend)
            let a = try InteractionAnalysis(r, rule: .relative(0.05))
            // float32 sums of 2^n terms of size ~|v|: a few ulps times n.
            let tol = 1e-5 * Double(n) * max(1, v.map(abs).max()!)
            #expect(
                abs(r.iand.reduce(0, +) + r.ior.reduce(0, +) - (v.last! + r.q.last!)) <= tol,
                "\(mode): Σ I ≠ v(N) + q(N)")
            #expect(a.matchingMaxAbs <= tol, "\(mode): universal matching error \(a.matchingMaxAbs)")
            #expect(
                r.q.allSatisfy { abs($0) <= s.qthres * abs(v.last! - v[0]) * (1 + 1e-6) },
                "\(mode): q outside its bound")
            if mode == .and { expectClose(r.iand, Reference.transform(.and, v), tolerance: tol, "and = Möbius(v)") }
            if mode == .none {
                expectClose(
                    r.iand.indices.map { r.iand[$0] + r.ior[$0] },
                    zip(Reference.transform(.and, v), Reference.transform(.or, v)).enumerated().map {
                        // reorganised: |S| <= 1 holds both halves in AND
                        $0.offset & ($0.offset - 1) == 0
                            ? 0.5 * ($0.element.0 + $0.element.1) : 0.5 * ($0.element.0 + $0.element.1)
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
        #expect(throws: HarsanyiError.self) {
            try Sparsifier.run(v: [1, 2, 3], settings: s, backend: TestBackends.cpu)
        }
        #expect(throws: HarsanyiError.self) {
            try Sparsifier.run(v: [1, .nan], settings: s, backend: TestBackends.cpu)
        }
        #expect(throws: HarsanyiError.self) {
            try Sparsifier.run(v: [1, 2, .infinity, 4], settings: s, backend: TestBackends.cpu)
        }
        let small = CPUBackend(memoryLimit: 1 << 20)
        do {
            _ = try Sparsifier.run(v: [Double](repeating: 1, count: 1 << 16), settings: s, backend: small)
            Issue.record("a job larger than the memory limit ran")
        } catch let e as HarsanyiError {
            guard case .unsupported = e else {
                Issue.record("wrong error \(e)")
                return
            }
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
        #expect(
            top.primitives.count == 5 && top.primitives.map(\.subset) == Array(rel.primitives.prefix(5)).map(\.subset))
        let absolute = try InteractionAnalysis(r, rule: .absolute(0.1))
        #expect(absolute.primitives.allSatisfy { abs($0.value) >= 0.1 * abs(v.last! - v[0]) })
        let counted = rel.orders.reduce(0) { $0 + $1.salientAnd + $1.salientOr }
        #expect(counted == rel.primitives.count)
    }
}

@Suite("Salient selection against brute force")
struct SalientSelectionTests {
    /// A result with planted AND and OR interactions (n = 5, both types non-zero at every order, ties in |I| across
    /// types, zeros, both signs) and v rebuilt from them with the Double references, so the analysis sees a
    /// faithful decomposition.
    static func planted(seed s: UInt64) -> InteractionResult {
        var rng = SplitMix64(seed: s)
        let n = 5
        let count = 1 << n
        let levels = [0, 0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2]
        var iand = (0..<count).map { _ in levels.randomElement(using: &rng)! * (Bool.random(using: &rng) ? 1 : -1) }
        var ior = (0..<count).map { _ in levels.randomElement(using: &rng)! * (Bool.random(using: &rng) ? 1 : -1) }
        iand[0b10110] = 3
        ior[0b01011] = -3  // a tie at the top across types
        ior[0] = 0
        let q = [Double](repeating: 0, count: count)
        let zeta = Reference.transform(.zeta, iand)
        let inv = Reference.transform(.orInverse, ior)
        let v = (0..<count).map { zeta[$0] + inv[$0] }
        return InteractionResult(
            n: n, v: v, iand: iand, ior: ior, p: q, q: q, lossTrace: [], settings: InteractionSettings(),
            reorganized: false, returnedIteration: 0, backend: "test", seconds: 0)
    }

    typealias Key = (type: InteractionType, subset: Int, value: Double)

    static func all(_ r: InteractionResult) -> [Key] {
        r.iand.indices.map { (InteractionType.and, $0, r.iand[$0]) } + r.ior.indices.map { (.or, $0, r.ior[$0]) }
    }

    /// The selection's (type, subset) pairs equal `want`'s, as sets, and come sorted by |I| descending.
    func expectSelection(_ a: InteractionAnalysis, _ want: [Key], _ context: String) {
        let got = Set(a.primitives.map { "\($0.type)\($0.subset)" })
        let expected = Set(want.map { "\($0.type)\($0.subset)" })
        #expect(got == expected, "\(context): extra \(got.subtracting(expected)), missing \(expected.subtracting(got))")
        #expect(
            zip(a.primitives, a.primitives.dropFirst()).allSatisfy { abs($0.value) >= abs($1.value) },
            "\(context): not sorted by |I|")
        for o in 0...5 {
            let and = want.filter { $0.type == .and && $0.subset.nonzeroBitCount == o }.count
            let or = want.filter { $0.type == .or && $0.subset.nonzeroBitCount == o }.count
            #expect(
                a.orders[o].salientAnd == and && a.orders[o].salientOr == or,
                "\(context): order \(o) counts \(a.orders[o].salientAnd)/\(a.orders[o].salientOr), want \(and)/\(or)")
        }
    }

    @Test("relative, absolute (both directions) and top-k on mixed AND-OR results", arguments: [1, 2, 3] as [UInt64])
    func rules(seed s: UInt64) throws {
        let r = Self.planted(seed: s)
        let all = Self.all(r).filter { $0.value != 0 }
        let maxAbs = all.map { abs($0.value) }.max()!
        for tau in [0.05, 0.1, 0.3] {
            let a = try InteractionAnalysis(r, rule: .relative(tau))
            #expect(a.threshold == tau * maxAbs, "seed \(s) relative \(tau): threshold \(a.threshold)")
            expectSelection(a, all.filter { abs($0.value) >= tau * maxAbs }, "seed \(s) relative \(tau)")
            #expect(a.matchingMaxAbs <= 1e-12, "seed \(s): matching error \(a.matchingMaxAbs)")
        }
        let spread = abs(r.v.last! - r.v[0])
        for tau in [0.015, 0.15, 1.5].map({ $0 / spread }) {  // thresholds between the planted levels
            let a = try InteractionAnalysis(r, rule: .absolute(tau))
            let want = all.filter { abs($0.value) >= tau * spread }
            #expect(!want.isEmpty && want.count < all.count, "seed \(s) absolute \(tau): the case separates nothing")
            expectSelection(a, want, "seed \(s) absolute \(tau)")
        }
        for k in [1, 2, 7, 40] {
            let a = try InteractionAnalysis(r, rule: .topK(k))
            #expect(a.primitives.count == min(k, all.count), "seed \(s) top-\(k): \(a.primitives.count) chosen")
            let chosen = Set(a.primitives.map { "\($0.type)\($0.subset)" })
            let smallestChosen = a.primitives.map { abs($0.value) }.min() ?? .infinity
            let largestLeft = all.filter { !chosen.contains("\($0.type)\($0.subset)") }.map { abs($0.value) }.max() ?? 0
            #expect(largestLeft <= smallestChosen, "seed \(s) top-\(k): left \(largestLeft) > chosen \(smallestChosen)")
            if k == 1 {  // the tie at the top: AND before OR
                #expect(a.primitives.first?.type == .and && a.primitives.first?.subset == 0b10110, "seed \(s) top-1")
            }
        }
        // Per-order strengths over all interactions, salient or not.
        let a = try InteractionAnalysis(r, rule: .relative(0.05))
        for o in 0...5 {
            let values = Self.all(r).filter { $0.subset.nonzeroBitCount == o }.map(\.value)
            let positive = values.filter { $0 > 0 }.reduce(0, +)
            let negative = values.filter { $0 < 0 }.reduce(0, +)
            #expect(
                abs(a.orders[o].positive - positive) <= 1e-12 && abs(a.orders[o].negative - negative) <= 1e-12,
                "seed \(s) order \(o): strengths \(a.orders[o].positive)/\(a.orders[o].negative)")
        }
    }
}

extension SplitMix64 {
    mutating func uniformValues(_ count: Int, scale: Double) -> [Double] { uniform(count).map { $0 * scale } }
}
