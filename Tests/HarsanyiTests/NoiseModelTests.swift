import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiOpenCL
import HarsanyiTestSupport
import Testing

/// The noise-model theory (spec §10.1, a reconstruction): the fast Kronecker solve against a dense solve built from
/// the model's definition, on every backend, and the paper's Proposition 1 on it.
@Suite("Noise model")
struct NoiseModelTests {
    /// The dense normal equations of E_ε Σ_S (y_S − Σ_T w_T J̃_T(x_S))², built from the definition over every S:
    /// E[J̃_T J̃_T′](S) = Π_{i∈T∩T′} (1[i∈S] + σ²) · Π_{i∈TΔT′} 1[i∈S] (E ε = 0, E ε² = σ²); solved by Gaussian
    /// elimination with partial pivoting. O(8^n): n ≤ 6.
    static func denseSolve(_ y: [Double], sigma2: Double) -> [Double] {
        let count = y.count
        var g = [[Double]](repeating: [Double](repeating: 0, count: count + 1), count: count)
        for t in 0..<count {
            for u in 0..<count {
                var sum = 0.0
                for s in 0..<count {
                    var product = 1.0
                    for i in 0..<count.trailingZeroBitCount {
                        let inT = t >> i & 1 == 1, inU = u >> i & 1 == 1, inS = s >> i & 1 == 1
                        if inT && inU { product *= (inS ? 1 : 0) + sigma2 } else if inT || inU { product *= inS ? 1 : 0 }
                    }
                    sum += product
                }
                g[t][u] = sum
            }
            g[t][count] = (0..<count).filter { $0 & t == t }.reduce(0) { $0 + y[$1] }
        }
        for c in 0..<count {
            let p = (c..<count).max { abs(g[$0][c]) < abs(g[$1][c]) }!
            g.swapAt(c, p)
            for r in 0..<count where r != c {
                let f = g[r][c] / g[c][c]
                if f != 0 { for k in c...count { g[r][k] -= f * g[c][k] } }
            }
        }
        return (0..<count).map { g[$0][count] / g[$0][$0] }
    }

    /// Targets with ground-truth interactions at every order (the spec's check): y = zeta(I), I uniform in [−1, 1).
    static func spreadTargets(n: Int, seed s: UInt64) -> [Double] {
        var rng = SplitMix64(seed: s)
        var y = HostButterfly.apply(.zeta, rng.uniform(1 << n))
        let empty = y[0]
        for i in y.indices { y[i] -= empty }
        return y
    }

    /// Relative tolerance of the dense solve against the fast one: G is symmetric positive definite with condition
    /// number below 6^n ≈ 5·10^4 at n = 6 (its factor g has eigenvalues ≥ 1/(3 + 2σ²)... both in Double); errors seen
    /// are about 1e-13.
    static let denseTolerance = 1e-9

    @Test("the fast solve equals the dense solve of the definition", arguments: [3, 5, 6])
    func fastEqualsDense(n: Int) throws {
        for (k, sigma2) in [0, 0.05, 0.3, 2.0].enumerated() {
            let seedValue = seed(n, k, 101)
            let y = Self.spreadTargets(n: n, seed: seedValue)
            let fast = try NoiseModel.solve(y, sigma2: sigma2)
            let dense = Self.denseSolve(y, sigma2: sigma2)
            let scale = max(1, dense.map(abs).max()!)
            expectClose(fast, dense, tolerance: Self.denseTolerance * scale, "n \(n) σ² \(sigma2) seed \(seedValue)")
        }
    }

    @Test("at σ² = 0 the theory's interactions are the Harsanyi interactions of y (naive Möbius)")
    func zeroNoiseIsMobius() throws {
        for n in [4, 8, 10] {
            let s = seed(n, 102)
            let y = Self.spreadTargets(n: n, seed: s)
            expectClose(try NoiseModel.solve(y, sigma2: 0), Reference.transform(.and, y), tolerance: 1e-9, "n \(n) seed \(s)")
        }
    }

    @Test("Proposition 1: r(k) grows with σ² (low orders gain on high orders as noise grows)")
    func ratioGrowsWithNoise() throws {
        let grid = [0, 1e-3, 1e-2, 0.03, 0.1, 0.3, 1, 3, 10]
        for n in [6, 8, 10] {
            for trial in 0..<5 {
                let s = seed(n, trial, 103)
                let y = Self.spreadTargets(n: n, seed: s)
                for cut in 1..<n {
                    let r = try grid.map { NoiseModel.ratio(NoiseModel.orderStrength(try NoiseModel.solve(y, sigma2: $0)), cut: cut) }
                    let rising = zip(r, r.dropFirst()).allSatisfy { $0 <= $1 * (1 + 1e-12) }
                    #expect(rising, "n \(n) cut \(cut) seed \(s): r over σ² \(grid) = \(r)")
                }
            }
        }
    }

    /// Float32 on the device: each of the n pair passes rounds once per output, on values of size ≈ max|x|.
    static func floatTolerance(n: Int, scale: Double) -> Double { 4 * Double(n) * 1.2e-7 * scale }

    @Test("the Kronecker pass on the CPU path and on OpenCL equals the dense Kronecker product")
    func kroneckerOnBackends() throws {
        let n = 9
        var rng = SplitMix64(seed: seed(n, 104))
        let x = rng.uniform(1 << n)
        let m = KroneckerFactor(0.7, -0.4, 0.25, 1.3)
        // Dense reference: entry (S, T) = Π_i m[S_i][T_i].
        let entries = [[m.c00, m.c01], [m.c10, m.c11]]
        var want = [Double](repeating: 0, count: 1 << n)
        for s in 0..<(1 << n) {
            for t in 0..<(1 << n) {
                var product = x[t]
                for i in 0..<n { product *= entries[s >> i & 1][t >> i & 1] }
                want[s] += product
            }
        }
        var backends: [(String, any ComputeBackend)] = [("cpu", TestBackends.cpu)]
        if let device = TestBackends.device, let b = try? OpenCLBackend(device: device) { backends.append(("opencl", b)) }
        for (name, backend) in backends {
            for precision in [Precision.float64, .float32] where backend.supports(precision) {
                let buffer = try backend.makeBuffer(count: x.count, precision: precision)
                try backend.writeDoubles(x, to: buffer)
                try backend.kronecker(m, buffer, n: n)
                let got = try backend.readDoubles(buffer)
                let scale = want.map(abs).max()!
                let tol = precision == .float64 ? 1e-12 * scale : Self.floatTolerance(n: n, scale: scale)
                expectClose(got, want, tolerance: tol, "\(name) \(precision)")
            }
        }
        #expect(backends.count == 2 || !TestBackends.hasOpenCL)
    }

    @Test("the solve on a device buffer equals the host solve", .enabled(if: TestBackends.hasOpenCL, TestBackends.skipReason))
    func deviceSolve() throws {
        let backend = try OpenCLBackend(device: TestBackends.device!)
        let n = 12
        let y = Self.spreadTargets(n: n, seed: seed(n, 105))
        for sigma2 in [0.0, 0.1, 1.0] {
            let want = try NoiseModel.solve(y, sigma2: sigma2)
            let precision: Precision = backend.supports(.float64) ? .float64 : .float32
            let buffer = try backend.makeBuffer(count: y.count, precision: precision)
            try backend.writeDoubles(y, to: buffer)
            try NoiseModel.solve(buffer, n: n, sigma2: sigma2, backend: backend)
            let scale = max(want.map(abs).max()!, y.map(abs).max()! * Double(y.count))
            let tol = precision == .float64 ? 1e-11 * scale : Self.floatTolerance(n: 2 * n, scale: scale)
            expectClose(try backend.readDoubles(buffer), want, tolerance: tol, "σ² \(sigma2) \(precision)")
        }
    }

    @Test("the σ² fit recovers the σ² that made a distribution")
    func fitRecoversSigma() throws {
        let targets = (0..<5).map { Self.spreadTargets(n: 8, seed: seed(8, $0, 106)) }
        let fit = try NoiseTheoryFit(targets: targets)
        for sigma2 in [0.003, 0.05, 0.7] {
            let made = NoiseTheoryFit.distribution(fit.strength(sigma2: sigma2))
            let found = fit.fit(made)
            #expect(abs(log(found.sigma2 / sigma2)) < 0.02 && found.distance < 1e-6, "σ² \(sigma2): found \(found)")
        }
    }
}
