import HarsanyiCore
import HarsanyiTestSupport
import Testing

/// Properties of the transforms, checked on every backend available.
@Suite("Transform properties")
struct PropertyTests {
    static var backends: [ComputeBackend] {
        [TestBackends.cpu] + TestBackends.openCLByStyle.values.map { $0 as ComputeBackend }
    }
    /// float64 round trips lose at most a few ulps of the largest partial sum.
    static let roundTripTolerance = 1e-9

    @Test("inverse(transform(v)) = v", arguments: [0, 3, 9, 15])
    func roundTrip(n: Int) throws {
        var rng = SplitMix64(seed: seed(n, 1))
        let v = rng.uniform(1 << n)
        for b in Self.backends {
            for kind in SubsetTransform.allCases {
                guard let inv = kind.inverse else { continue }
                let back = try b.transform(inv, try b.transform(kind, v))
                expectClose(back, v, tolerance: Self.roundTripTolerance, "\(b.deviceDescription) \(inv)(\(kind)) n=\(n)")
            }
        }
    }

    @Test("Σ_S I(S) = v(N) and I(∅) = v(∅) for AND; Σ_S I_or(S) = v(N) for OR", arguments: [0, 1, 6, 12])
    func efficiencyAndEmptySet(n: Int) throws {
        var rng = SplitMix64(seed: seed(n, 2))
        let v = rng.smallIntegers(1 << n, k: 5)
        for b in Self.backends {
            let iand = try b.transform(.and, v.map { Float($0) })
            #expect(iand.reduce(0, +) == Float(v.last!), "\(b.deviceDescription) n=\(n): Σ I_and ≠ v(N)")
            #expect(iand[0] == Float(v[0]))
            let ior = try b.transform(.or, v.map { Float($0) })
            #expect(ior.reduce(0, +) == Float(v.last!), "\(b.deviceDescription) n=\(n): Σ I_or ≠ v(N)")
            #expect(ior[0] == Float(v[0]))
        }
    }

    @Test("linearity: M(a·v + w) = a·M(v) + M(w), exact on small integers", arguments: [2, 7, 14])
    func linearity(n: Int) throws {
        var rng = SplitMix64(seed: seed(n, 3))
        let v = rng.smallIntegers(1 << n), w = rng.smallIntegers(1 << n)
        let a = 3.0
        for b in Self.backends {
            for kind in SubsetTransform.allCases {
                let lhs = try b.transform(kind, zip(v, w).map { Float(a * $0 + $1) })
                let mv = try b.transform(kind, v.map { Float($0) }), mw = try b.transform(kind, w.map { Float($0) })
                #expect(lhs == zip(mv, mw).map { Float(a) * $0 + $1 }, "\(b.deviceDescription) \(kind) n=\(n)")
            }
        }
    }

    @Test("transposes: ⟨M x, y⟩ = ⟨x, Mᵀ y⟩", arguments: [1, 5, 10])
    func adjoint(n: Int) throws {
        var rng = SplitMix64(seed: seed(n, 4))
        let x = rng.uniform(1 << n), y = rng.uniform(1 << n)
        for b in Self.backends {
            for (m, mt) in [(SubsetTransform.and, SubsetTransform.mobiusSuperset), (.zeta, .zetaSuperset), (.or, .orTranspose)] {
                let lhs = Reference.dot(try b.transform(m, x), y), rhs = Reference.dot(x, try b.transform(mt, y))
                #expect(abs(lhs - rhs) <= 1e-9 * max(1, abs(lhs)), "\(b.deviceDescription) \(m)/\(mt) n=\(n)")
            }
        }
    }
}
