import HarsanyiCore

/// Naive Double references, written straight from the definitions and used only by tests.
public enum Reference {
    /// The transform by its definition as a sum over subsets (O(3^n) or O(4^n)), in Double.
    public static func transform(_ kind: SubsetTransform, _ v: [Double]) -> [Double] {
        let count = v.count
        let full = count - 1
        var out = [Double](repeating: 0, count: count)
        for s in 0..<count {
            var acc = 0.0
            switch kind {
            case .and:  // Σ_{T⊆S} (−1)^{|S|−|T|} v(T)
                forEachSubset(of: s) { t in acc += sign(s.nonzeroBitCount - t.nonzeroBitCount) * v[t] }
            case .zeta:
                forEachSubset(of: s) { t in acc += v[t] }
            case .mobiusSuperset:  // Σ_{S'⊇S} (−1)^{|S'|−|S|} v(S')
                forEachSubset(of: full ^ s) { r in acc += sign(r.nonzeroBitCount) * v[s | r] }
            case .zetaSuperset:
                forEachSubset(of: full ^ s) { r in acc += v[s | r] }
            case .or:  // −Σ_{T⊆S} (−1)^{|S|−|T|} v(N∖T), and v(∅) at ∅
                if s == 0 {
                    acc = v[0]
                } else {
                    forEachSubset(of: s) { t in acc -= sign(s.nonzeroBitCount - t.nonzeroBitCount) * v[full ^ t] }
                }
            case .orInverse:  // I(∅) + Σ_{T∩S≠∅} I(T)
                acc = v[0]
                for t in 1..<max(1, count) where t & s != 0 { acc += v[t] }
            case .orTranspose:  // (M_orᵀ s)(L) = Σ_S M_or[S, L] s(S)
                for row in 0..<count { acc += orMatrixEntry(row: row, column: s, n: full.nonzeroBitCount) * v[row] }
            }
            out[s] = acc
        }
        return out
    }

    /// M_or[S, L] = −(−1)^{|S|+|L|+n}·1[L ⊇ N∖S] for S ≠ ∅; M_or[∅, ∅] = 1, else 0 on row ∅.
    public static func orMatrixEntry(row s: Int, column l: Int, n: Int) -> Double {
        let full = (1 << n) - 1
        if s == 0 { return l == 0 ? 1 : 0 }
        guard l & (full ^ s) == (full ^ s) else { return 0 }
        return -sign(s.nonzeroBitCount + l.nonzeroBitCount + n)
    }

    /// The textbook per-bit butterfly in Double, O(n·2^n): the reference for n too large for the definitions.
    /// Written as plain loops over the pairs (i, i + 2^b) of each block, with no shared code with the backends.
    public static func butterfly(_ kind: Butterfly, _ v: [Double]) -> [Double] {
        var a = v
        let count = a.count
        a.withUnsafeMutableBufferPointer { a in
            var bit = 1
            while bit < count {
                for block in stride(from: 0, to: count, by: 2 * bit) {
                    for i in block..<(block + bit) {
                        switch kind {
                        case .mobius: a[i + bit] -= a[i]
                        case .zeta: a[i + bit] += a[i]
                        case .mobiusSuperset: a[i] -= a[i + bit]
                        case .zetaSuperset: a[i] += a[i + bit]
                        }
                    }
                }
                bit <<= 1
            }
        }
        return a
    }

    /// One entry of the AND transform by its definition: Σ_{T⊆S} (−1)^{|S|−|T|} v(T), O(2^|S|).
    public static func andEntry(_ v: [Double], _ s: Int) -> Double {
        var acc = 0.0
        forEachSubset(of: s) { t in acc += sign(s.nonzeroBitCount - t.nonzeroBitCount) * v[t] }
        return acc
    }

    @inline(__always) static func sign(_ k: Int) -> Double { k & 1 == 0 ? 1 : -1 }

    /// Calls body(t) for every subset t of s (including ∅ and s).
    public static func forEachSubset(of s: Int, _ body: (Int) -> Void) {
        var t = s
        while true {
            body(t)
            if t == 0 { return }
            t = (t - 1) & s
        }
    }
}

extension SplitMix64 {
    /// `count` uniform values in [-1, 1).
    public mutating func uniform(_ count: Int) -> [Double] {
        (0..<count).map { _ in Double.random(in: -1..<1, using: &self) }
    }
    /// `count` small integers in -k...k (exact in float32 through the transforms while k·2^n < 2^24).
    public mutating func smallIntegers(_ count: Int, k: Int = 3) -> [Double] {
        (0..<count).map { _ in Double(Int.random(in: -k...k, using: &self)) }
    }
}

extension Reference {
    /// One entry of the OR transform by its definition, O(2^|S|): −Σ_{T⊆S} (−1)^{|S|−|T|} v(N∖T), v(∅) at ∅.
    public static func orEntry(_ v: [Double], _ s: Int) -> Double {
        if s == 0 { return v[0] }
        let full = v.count - 1
        var acc = 0.0
        forEachSubset(of: s) { t in acc -= sign(s.nonzeroBitCount - t.nonzeroBitCount) * v[full ^ t] }
        return acc
    }

    /// One entry of M_orᵀ y by its definition, O(2^|L|): y(∅)·[L = ∅] + Σ_{S ≠ ∅, S ⊇ N∖L} M_or[S, L]·y(S), where
    /// M_or[S, L] = −(−1)^{|S|+|L|+n}; the S are (N∖L) ∪ R for R ⊆ L.
    public static func orTransposeEntry(_ y: [Double], _ l: Int) -> Double {
        let full = y.count - 1
        let n = full.nonzeroBitCount
        var acc = l == 0 ? y[0] : 0
        forEachSubset(of: l) { r in
            let s = (full ^ l) | r
            if s != 0 { acc -= sign(s.nonzeroBitCount + l.nonzeroBitCount + n) * y[s] }
        }
        return acc
    }

    /// Neumaier's compensated sum: the error is about one rounding of the result, independent of the count, so a
    /// reference summed over 2^20 entries does not carry the ~√N·ε·|partial sums| error of a plain loop (which at
    /// n = 20 is as large as the tolerance the backends are held to).
    public struct CompensatedSum {
        public private(set) var sum = 0.0
        var compensation = 0.0
        public init() {}
        public mutating func add(_ x: Double) {
            let t = sum + x
            compensation += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
            sum = t
        }
        public var value: Double { sum + compensation }
    }

    /// Σ_i a[i]·b[i] in Double. Inlinable, so callers specialise it (the unspecialised generic conversion costs
    /// ~100 ns an element: minutes at n = 26).
    @inlinable public static func dot<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Double {
        var acc = 0.0
        for i in 0..<min(a.count, b.count) { acc += Double(a[i]) * Double(b[i]) }
        return acc
    }
}
