/// A 2 × 2 factor m of the Kronecker product ⊗_{i<n} m over the players (rows and columns: player absent,
/// present). Applied along every bit of a subset-indexed vector it computes (⊗ m)·a in n passes, O(n·2^n)
/// operations and no 2^n × 2^n matrix.
public struct KroneckerFactor: Sendable, Equatable {
    public var c00: Double, c01: Double, c10: Double, c11: Double

    public init(_ c00: Double, _ c01: Double, _ c10: Double, _ c11: Double) {
        (self.c00, self.c01, self.c10, self.c11) = (c00, c01, c10, c11)
    }

    /// a ← (⊗ m)·a on host memory, one bit after the other in the order of `Kernels/kronecker.cl` (same rounding:
    /// each output is c·x + c′·y, no fused multiply-add in the kernel).
    func apply<T: HarsanyiReal>(_ a: UnsafeMutablePointer<T>, n: Int) {
        let (m00, m01, m10, m11) = (T(c00), T(c01), T(c10), T(c11))
        for bit in 0..<n {
            let half = 1 << bit
            var base = 0
            while base < 1 << n {
                for lo in base..<(base + half) {
                    let x = a[lo], y = a[lo + half]
                    a[lo] = m00 * x + m01 * y
                    a[lo + half] = m10 * x + m11 * y
                }
                base += 2 * half
            }
        }
    }

    /// (⊗ m)·a for a host vector of 2^n values.
    public func apply(_ a: [Double]) -> [Double] {
        var out = a
        guard let n = Subsets.playerCount(forLength: a.count) else { return out }
        out.withUnsafeMutableBufferPointer { apply($0.baseAddress!, n: n) }
        return out
    }
}

/// The noise-model theory of the two-phase dynamics (spec §10.1). **A reconstruction**, derived for this project
/// from the papers' summaries (learning as regression on interaction triggering functions under parameter noise of
/// variance σ²), not taken from the paper's text or code; validated against a dense solve and against the
/// monotonicity the paper's Proposition 1 states (tests), not against the paper's own numbers.
///
/// The 2^n masked samples x_S of one input are the training data, with targets y_S = v(x_S). The triggering function
/// of T is J_T(x_S) = 1[T ⊆ S]; under noise it is J̃_T(x_S) = Π_{i∈T}(1[i∈S] + ε_i), E ε_i = 0, E ε_i² = σ².
/// Minimising E_ε Σ_S (y_S − Σ_T w_T J̃_T(x_S))² gives
/// ```
/// w*(σ²) = G(σ²)⁻¹ Jᵀy,   G_{T,T′} = (1 + 2σ²)^{|T∩T′|} · 2^{n − |T∪T′|},   (Jᵀy)_T = Σ_{S⊇T} y_S.
/// ```
/// G is the Kronecker product ⊗_i g with g = [[2, 1], [1, 1 + 2σ²]], so
/// ```
/// w* = (⊗_i g⁻¹) · zeta-superset(y),   g⁻¹ = [[1 + 2σ², −1], [−1, 2]] / (1 + 4σ²),
/// ```
/// one superset-sum butterfly and n pair passes: O(n·2^n), on any backend. At σ² = 0, w* is the Möbius transform
/// of y (the Harsanyi interactions): noise-free regression recovers the network's own AND interactions. Larger σ²
/// shrinks high orders more (each player in T adds a factor of noise), which is the theory's phase 2 read
/// backwards: as σ² falls during training, higher orders appear.
public enum NoiseModel {
    /// g(σ²)⁻¹, the per-player factor of G(σ²)⁻¹.
    public static func inverseFactor(sigma2: Double) -> KroneckerFactor {
        let d = 1 + 4 * sigma2
        return KroneckerFactor((1 + 2 * sigma2) / d, -1 / d, -1 / d, 2 / d)
    }

    /// w*(σ²) for the 2^n targets y, in Double on the host. O(n·2^n).
    public static func solve(_ y: [Double], sigma2: Double) throws -> [Double] {
        try check(count: y.count, sigma2: sigma2)
        return inverseFactor(sigma2: sigma2).apply(HostButterfly.apply(.zetaSuperset, y))
    }

    /// w*(σ²) in place on a backend's buffer of 2^n targets (stays on the device).
    public static func solve(_ buffer: DeviceBuffer, n: Int, sigma2: Double, backend: some ComputeBackend) throws {
        try check(count: buffer.count, sigma2: sigma2)
        try backend.transform(.zetaSuperset, buffer, n: n)
        try backend.kronecker(inverseFactor(sigma2: sigma2), buffer, n: n)
    }

    static func check(count: Int, sigma2: Double) throws {
        guard Subsets.playerCount(forLength: count) != nil else {
            throw HarsanyiError.invalidArgument("the noise model needs 2^n targets, got \(count)")
        }
        guard sigma2 >= 0, sigma2.isFinite else {
            throw HarsanyiError.invalidArgument("σ² must be finite and ≥ 0, got \(sigma2)")
        }
    }

    /// Σ_{|T|=k} |w_T| for k = 0…n.
    public static func orderStrength(_ w: [Double]) -> [Double] {
        let n = Subsets.playerCount(forLength: w.count) ?? 0
        var out = [Double](repeating: 0, count: n + 1)
        for (t, x) in w.enumerated() { out[t.nonzeroBitCount] += abs(x) }
        return out
    }

    /// r(k) = Σ_{1≤|T|≤k} s(|T|) / Σ_{|T|>k} s(|T|) for per-order strengths s (order 0 left out: it is not an
    /// interaction of players). The cut point k is this project's choice (spec §10.1: unverified); +∞ when no
    /// strength lies above k.
    public static func ratio(_ strength: [Double], cut k: Int) -> Double {
        let low = strength.indices.filter { $0 >= 1 && $0 <= k }.reduce(0) { $0 + strength[$1] }
        let high = strength.indices.filter { $0 > k }.reduce(0) { $0 + strength[$1] }
        return high > 0 ? low / high : .infinity
    }
}
