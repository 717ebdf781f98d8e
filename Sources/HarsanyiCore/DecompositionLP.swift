import Foundation

/// The AND-OR decomposition as a linear program over the interactions themselves (spec §5.4).
///
/// With I_and = M_and·v_and and I_or = M_or·v_or as the variables (v_and = Z_and·I_and, v_or = Z_or·I_or, Z the
/// zeta forms), the problem of every optimised mode is basis pursuit with a box on the residual:
/// ```
/// primal   min ‖I_and‖₁ + ‖I_or‖₁   s.t.  |Z_and·I_and + Z_or·I_or − v| ≤ b
///          (mode q: no I_or; mode p: b = 0)
/// dual     max wᵀv − b·‖w‖₁         s.t.  ‖Z_andᵀ·w‖∞ ≤ 1, ‖Z_orᵀ·w‖∞ ≤ 1
/// ```
/// Weak duality holds for every w: ‖I‖₁ ≥ wᵀ(Z·I) = wᵀv + wᵀr ≥ wᵀv − b‖w‖₁
/// (r the residual, |r| ≤ b). A solver
/// that keeps a w therefore certifies its gap. Mapping back: p = (v_and − v_or)/2, q = v_and + v_or − v.
///
/// Every product here is two or three in-place butterflies: O(n·2^n) operations, in Double on the host.
public struct DecompositionLP: Sendable {
    public let n: Int
    public let v: [Double]
    /// b = qthres·|v(N) − v(∅)| for modes pq and q, 0 for mode p.
    public let bound: Double
    /// False for mode q (AND only).
    public let withOr: Bool
    public let mode: InteractionMode
    public let qthres: Double

    /// Throws `.invalidArgument` for an un-optimised mode, a v that is not 2^n finite values, or mode pq with b = 0
    /// (then q cannot move: that problem is mode p, and the request is most likely a mistake).
    public init(v: [Double], mode: InteractionMode, qthres: Double) throws {
        guard mode.optimized else { throw HarsanyiError.invalidArgument("mode \(mode) has nothing to optimise") }
        guard let n = Subsets.playerCount(forLength: v.count) else {
            throw HarsanyiError.invalidArgument("v has \(v.count) values; it needs 2^n (one per subset of n players)")
        }
        if let i = v.firstIndex(where: { !$0.isFinite }) {
            throw HarsanyiError.invalidArgument("v[\(i)] = \(v[i]) is not finite (NaN or infinite model output)")
        }
        self.n = n
        self.v = v
        self.mode = mode
        self.qthres = qthres
        withOr = mode.hasOr
        bound = mode.hasQ ? qthres * abs(v[v.count - 1] - v[0]) : 0
        if mode.hasQ, !(bound > 0) {
            throw HarsanyiError.invalidArgument(
                "the noise bound qthres·|v(N) − v(∅)| is \(bound) in mode \(mode): q cannot move; "
                    + "use --mode p (no noise)"
            )
        }
    }

    /// Z_and·iand + Z_or·ior (v_and + v_or): O(n·2^n).
    public func reconstruct(iand: [Double], ior: [Double]?) -> [Double] {
        var a = HostButterfly.apply(.zeta, iand)
        if withOr, let ior {
            let o = orInverse(ior)
            for s in a.indices { a[s] += o[s] }
        }
        return a
    }

    /// v_or = Z_or·ior: o(S) = I(∅) + Σ_{T∩S≠∅} I(T) = I(∅) + total − zeta(I)(N∖S).
    public func orInverse(_ ior: [Double]) -> [Double] {
        let z = HostButterfly.apply(.zeta, ior)
        let full = ior.count - 1
        let total = z[full]
        return (0...full).map { ior[0] + total - z[full ^ $0] }
    }

    /// (Z_andᵀ·w, Z_orᵀ·w): Z_andᵀw(T) = Σ_{S⊇T} w(S);
    /// Z_orᵀw(T) = Σ_{S∩T≠∅} w(S) for T ≠ ∅, Σ_S w(S) at ∅.
    public func transposed(_ w: [Double]) -> (and: [Double], or: [Double]?) {
        let gAnd = HostButterfly.apply(.zetaSuperset, w)
        guard withOr else { return (gAnd, nil) }
        let z = HostButterfly.apply(.zeta, w)
        let full = w.count - 1
        let total = z[full]
        var gOr = (0...full).map { total - z[full ^ $0] }
        gOr[0] = total
        return (gAnd, gOr)
    }

    /// The objective Σ|I_and| + Σ|I_or|.
    public static func loss(iand: [Double], ior: [Double]?) -> Double {
        iand.reduce(0) { $0 + abs($1) } + (ior?.reduce(0) { $0 + abs($1) } ?? 0)
    }

    /// I_and = M_and·v_and at (p, q), with v_and = s(v + q) + p (s = ½; mode q: v + q), q clamped to ±b; in Double.
    public func andInteractions(p: [Double], q: [Double]) -> [Double] {
        let scale = withOr ? 0.5 : 1.0
        return HostButterfly.apply(
            .mobius, v.indices.map { scale * (v[$0] + min(max(q[$0], -bound), bound)) + (withOr ? p[$0] : 0) })
    }

    /// I_or = M_or·v_or at (p, q), v_or = ½(v + q) − p:
    /// I(S) = −mobius-superset(v_or)(N∖S) for S ≠ ∅, I(∅) = v_or(∅).
    public func orInteractions(p: [Double], q: [Double]) -> [Double] {
        let x = v.indices.map { 0.5 * (v[$0] + min(max(q[$0], -bound), bound)) - p[$0] }
        let m = HostButterfly.apply(.mobiusSuperset, x)
        let full = v.count - 1
        var ior = v.indices.map { -m[full ^ $0] }
        ior[0] = x[0]
        return ior
    }

    /// M_orᵀ·s: t = −s with t(∅) = 0, t′ = M_andᵀ·t, g(T) = t′(N∖T), then g(∅) += s(∅).
    public func orTranspose(_ s: [Double]) -> [Double] {
        var t = s.map { -$0 }
        t[0] = 0
        let m = HostButterfly.apply(.mobiusSuperset, t)
        let full = s.count - 1
        var g = s.indices.map { m[full ^ $0] }
        g[0] += s[0]
        return g
    }

    /// The loss Σ|M_and·v_and| + Σ|M_or·v_or| of the reference parametrisation at (p, q), in Double.
    public func loss(p: [Double], q: [Double]) -> Double {
        Self.loss(iand: andInteractions(p: p, q: q), ior: withOr ? orInteractions(p: p, q: q) : nil)
    }

    /// The largest violation of |Z·I − v| ≤ b (0 when feasible).
    public func infeasibility(iand: [Double], ior: [Double]?) -> Double {
        let a = reconstruct(iand: iand, ior: ior)
        var worst = 0.0
        for s in a.indices { worst = max(worst, abs(a[s] - v[s]) - bound) }
        return worst
    }

    /// A certified lower bound on the optimum from any w: w scaled into the dual feasible set
    /// (‖Zᵀw‖∞ ≤ 1) by the factor that maximises the dual objective (linear in the scale); never below 0.
    public func lowerBound(_ w: [Double]) -> Double {
        let (gAnd, gOr) = transposed(w)
        var norm = gAnd.reduce(0) { max($0, abs($1)) }
        if let gOr { norm = gOr.reduce(norm) { max($0, abs($1)) } }
        guard norm > 0 else { return 0 }
        var value = 0.0
        var l1 = 0.0
        for s in w.indices {
            value += w[s] * v[s]
            l1 += abs(w[s])
        }
        return max(0, (value - bound * l1) / norm)
    }

    /// p and q of the reference parametrisation from interactions: v_and = Z_and·iand, v_or = Z_or·ior,
    /// p = (v_and − v_or)/2, q = clamp(v_and + v_or − v, ±b) (mode q: p = 0, q = v_and − v).
    public func parameters(iand: [Double], ior: [Double]?) -> (p: [Double], q: [Double]) {
        let a = HostButterfly.apply(.zeta, iand)
        let count = v.count
        guard withOr, let ior else {
            return ([Double](repeating: 0, count: count), (0..<count).map { min(max(a[$0] - v[$0], -bound), bound) })
        }
        let o = orInverse(ior)
        let p = (0..<count).map { 0.5 * (a[$0] - o[$0]) }
        let q = (0..<count).map { min(max(a[$0] + o[$0] - v[$0], -bound), bound) }
        return (p, q)
    }
}

/// The four butterflies on host arrays of Double, for the solvers' bookkeeping (bit-identical to the naive loops).
public enum HostButterfly {
    public static func apply(_ kind: Butterfly, _ values: [Double]) -> [Double] {
        var out = values
        let n = values.count.trailingZeroBitCount
        out.withUnsafeMutableBufferPointer { CPUButterfly.run(kind, $0.baseAddress!, n: n) }
        return out
    }
}
