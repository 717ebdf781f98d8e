/// Null players: players whose marginal contribution is exactly zero, v(S ∪ {d}) = v(S) for every S (spec §5.4),
/// e.g. an image cell equal to the baseline.
///
/// Every interaction containing a null player can be 0 at no cost, so the decomposition is solved on the
/// 2^(n−|D|) values of v over the other players and lifted back exactly: v_and(S) = v′_and(S∖D) (and v_or, p, q
/// likewise), which gives I(S) = I′(S) for S ∩ D = ∅ and I(S) = 0 otherwise, with the same loss. The test is
/// exact equality of the stored values (a tolerance would make the lift inexact).
public enum NullPlayers {
    /// The null players of v (2^n values), on the host.
    ///
    /// - Complexity: O(n·2^n) comparisons, stopping early at the first difference per player.
    public static func find(_ v: [Double]) -> [Int] {
        let n = v.count.trailingZeroBitCount
        return (0..<n).filter { d in
            let bit = 1 << d
            for s in 0..<v.count where s & bit == 0 && v[s | bit] != v[s] { return false }
            return true
        }
    }

    /// max over S of |v(S ∪ {d}) − v(S)| over the players in `players`: 0 for players found by `find`; the float
    /// round-off of the model's forward pass for players that are null by construction (`structural`).
    public static func deviation(_ v: [Double], players: [Int]) -> Double {
        var worst = 0.0
        for d in players {
            let bit = 1 << d
            for s in 0..<v.count where s & bit == 0 { worst = max(worst, abs(v[s | bit] - v[s])) }
        }
        return worst
    }

    /// Players null by construction: every element they mask already equals its baseline, so masking them changes
    /// no input of the model (v(S ∪ {d}) = v(S) in exact arithmetic; the forward pass may still round differently).
    public static func structural<T: Equatable>(players: [[Int]], sample: [T], baseline: [T]) -> [Int] {
        players.indices.filter { i in players[i].allSatisfy { sample[$0] == baseline[$0] } }
    }

    /// v restricted to the subsets without the players in `null` (a sorted list), re-indexed over the kept
    /// players in increasing order: v′(S′) = v(embed(S′)).
    public static func reduce(_ v: [Double], removing null: [Int]) -> [Double] {
        guard !null.isEmpty else { return v }
        let n = v.count.trailingZeroBitCount
        let kept = (0..<n).filter { !null.contains($0) }
        return (0..<(1 << kept.count)).map { v[embed($0, kept)] }
    }

    /// The subset of the full player set whose kept players are the bits of `reduced`.
    @inline(__always) public static func embed(_ reduced: Int, _ kept: [Int]) -> Int {
        var s = 0
        var r = reduced
        var j = 0
        while r != 0 {
            if r & 1 != 0 { s |= 1 << kept[j] }
            r >>= 1
            j += 1
        }
        return s
    }

    /// A set function lifted back to n players: x(S) = x′(S∖D).
    public static func liftSetFunction(_ x: [Double], n: Int, removing null: [Int]) -> [Double] {
        guard !null.isEmpty else { return x }
        let kept = (0..<n).filter { !null.contains($0) }
        var out = [Double](repeating: 0, count: 1 << n)
        for s in out.indices {
            var r = 0
            for (j, player) in kept.enumerated() where s & (1 << player) != 0 { r |= 1 << j }
            out[s] = x[r]
        }
        return out
    }

    /// Interactions lifted back to n players: I(S) = I′(S) for S without null players, 0 otherwise.
    public static func liftInteractions(_ x: [Double], n: Int, removing null: [Int]) -> [Double] {
        guard !null.isEmpty else { return x }
        let kept = (0..<n).filter { !null.contains($0) }
        var out = [Double](repeating: 0, count: 1 << n)
        for r in x.indices { out[embed(r, kept)] = x[r] }
        return out
    }
}
