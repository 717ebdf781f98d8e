/// The transforms over the 2^n subsets of n players (bit i of a subset index is player i).
///
/// With `N = {0..n-1}` and `v`, `I`, `s` vectors of length 2^n:
/// ```
/// and             I(S) = Σ_{T⊆S} (−1)^{|S|−|T|} v(T)                       (Möbius; Harsanyi dividends)
/// zeta            v(S) = Σ_{T⊆S} I(T)                                       (inverse of and)
/// or              I(S) = −Σ_{T⊆S} (−1)^{|S|−|T|} v(N∖T) for S ≠ ∅, I(∅) = v(∅)
/// or-inverse      v(S) = I(∅) + Σ_{T: T∩S≠∅} I(T)                           (inverse of or)
/// mobius-superset g(T) = Σ_{S⊇T} (−1)^{|S|−|T|} s(S)                       (transpose of and: M_andᵀ s)
/// zeta-superset   z(T) = Σ_{S⊇T} s(S)                                       (transpose of zeta)
/// or-transpose    g = M_orᵀ s                                                (gradient of the OR part)
/// ```
/// Every kind runs in place in O(n·2^n) operations: one of four butterflies over all bits, plus for the
/// OR family an index complement (S ↦ N∖S is a reversal of the array) and a fix of the ∅ entry.
public enum SubsetTransform: String, Sendable, CaseIterable, CustomStringConvertible {
    case and
    case or
    case zeta
    case orInverse = "or-inverse"
    case mobiusSuperset = "mobius-superset"
    case zetaSuperset = "zeta-superset"
    case orTranspose = "or-transpose"

    public var description: String { rawValue }

    /// The steps every backend executes for this transform, in order.
    ///
    /// Derivations (checked against the dense matrices in the tests):
    /// - or: I(S) = −mobius-superset(v)(N∖S) for S ≠ ∅, so save v(∅), butterfly, reverse with scale −1, restore ∅.
    /// - or-inverse: v(S) = I(∅) + total − Σ_{T⊆N∖S} I(T) with total = zeta(I)(N).
    /// - or-transpose: t = −s with t(∅) = 0, g(T) = mobius-superset(t)(N∖T), then g(∅) += s(∅).
    public var steps: [TransformStep] {
        switch self {
        case .and: return [.butterfly(.mobius)]
        case .zeta: return [.butterfly(.zeta)]
        case .mobiusSuperset: return [.butterfly(.mobiusSuperset)]
        case .zetaSuperset: return [.butterfly(.zetaSuperset)]
        case .or:
            return [.saveFirst(slot: 0), .butterfly(.mobiusSuperset),
                    .reverseAffine(scale: -1, scratchMask: 0), .fixFirst(c0: 0, c1: 1)]
        case .orInverse:
            return [.saveFirst(slot: 0), .butterfly(.zeta), .saveLast(slot: 1),
                    .reverseAffine(scale: -1, scratchMask: 0b11)]
        case .orTranspose:
            return [.saveFirst(slot: 0), .fixFirst(c0: 0, c1: 0), .butterfly(.mobiusSuperset),
                    .reverseAffine(scale: -1, scratchMask: 0), .fixFirst(c0: 1, c1: 1)]
        }
    }

    /// The transform that undoes this one, where it has one among the kinds.
    public var inverse: SubsetTransform? {
        switch self {
        case .and: return .zeta
        case .zeta: return .and
        case .or: return .orInverse
        case .orInverse: return .or
        case .mobiusSuperset: return .zetaSuperset
        case .zetaSuperset: return .mobiusSuperset
        case .orTranspose: return nil
        }
    }
}

/// One in-place pass over all 2^n entries, applied for every bit b to each pair (lo, hi) = (i, i | 2^b), bit b
/// clear in i. The kernel names in `Kernels/subset_transform.cl` are the raw values.
public enum Butterfly: String, Sendable, CaseIterable {
    case mobius             // hi −= lo
    case zeta               // hi += lo
    case mobiusSuperset = "mobius_sup"  // lo −= hi
    case zetaSuperset = "zeta_sup"      // lo += hi
}

/// A step of a composite transform; `scratch` is a 2-element buffer owned by the transform.
public enum TransformStep: Sendable, Equatable {
    /// The butterfly over all n bits.
    case butterfly(Butterfly)
    /// scratch[slot] ← a[0].
    case saveFirst(slot: Int)
    /// scratch[slot] ← a[2^n − 1].
    case saveLast(slot: Int)
    /// a[i] ← scale · a[2^n − 1 − i] + (Σ of scratch[j] for the bits j set in scratchMask), for all i at once.
    case reverseAffine(scale: Double, scratchMask: Int)
    /// a[0] ← c0 · a[0] + c1 · scratch[0].
    case fixFirst(c0: Double, c1: Double)
}

/// Subset-index helpers.
public enum Subsets {
    /// The largest n any backend accepts (2^40 entries is far beyond any memory we know).
    public static let maxPlayers = 40

    /// n such that 2^n == count, or nil when count is not a power of two.
    public static func playerCount(forLength count: Int) -> Int? {
        guard count > 0, count & (count - 1) == 0 else { return nil }
        return count.trailingZeroBitCount
    }

    /// The order |S| of subset index S.
    @inlinable public static func order(_ s: Int) -> Int { s.nonzeroBitCount }

    /// The players of subset index S, ascending.
    public static func players(_ s: Int) -> [Int] {
        var out: [Int] = []
        var m = s
        while m != 0 {
            out.append(m.trailingZeroBitCount)
            m &= m - 1
        }
        return out
    }

    /// The 2^n × n membership table (`masks.npy`): row S, column i is true iff player i ∈ S.
    public static func membership(n: Int) -> [Bool] {
        let count = 1 << n
        var out = [Bool](repeating: false, count: count * n)
        for s in 0..<count {
            for i in 0..<n where s & (1 << i) != 0 { out[s * n + i] = true }
        }
        return out
    }
}
