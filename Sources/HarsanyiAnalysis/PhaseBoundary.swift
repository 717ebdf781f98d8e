import Foundation

/// The two phases of interaction learning (spec §10) located on per-epoch series.
///
/// **Phase boundary.** From the per-epoch distribution of interaction strength over orders,
/// d_e(k) = S_e(k) / Σ_{k′≥1} S_e(k′) with S_e(k) = E_x Σ_{|S|=k} (|I_and(S|x)| + |I_or(S|x)|), the high-order share
/// h_e = Σ_{k ≥ kHigh} d_e(k) falls in phase 1 (medium and high orders removed) and rises in phase 2. The boundary
/// is the first epoch where the centred moving median of h over `window` epochs is smallest. Reported as "no phase
/// 2" when that minimum is the last epoch (h still falling) and "no phase 1" when it is the first. Robustness: the
/// boundary is recomputed for kHigh ± 1 and windows 1, 3 and 5, and the spread of those nine answers reported.
///
/// **Loss gap.** g_e = test loss − train loss. The gap opens at the breakpoint of a flat-then-rising hinge fitted
/// to it up to its (smoothed) maximum: from there on it widens. The test-loss minimum (early stopping's epoch) is
/// reported beside it.
///
/// - Complexity: O(E·window) per series of E epochs.
public enum PhaseBoundary {
    /// Centred moving median over `window` (odd) points; the ends use the points that exist.
    public static func movingMedian(_ x: [Double], window: Int) -> [Double] {
        let h = max(0, window / 2)
        return x.indices.map { i in
            let part = x[max(0, i - h)...min(x.count - 1, i + h)].sorted()
            let c = part.count
            return c % 2 == 1 ? part[c / 2] : (part[c / 2 - 1] + part[c / 2]) / 2
        }
    }

    /// The high-order share h_e of each epoch's strength-by-order S_e (index k = 0…n; order 0 is left out).
    public static func highShare(_ strength: [[Double]], from kHigh: Int) -> [Double] {
        strength.map { s in
            let total = s.indices.filter { $0 >= 1 }.reduce(0) { $0 + s[$1] }
            let high = s.indices.filter { $0 >= kHigh }.reduce(0) { $0 + s[$1] }
            return total > 0 ? high / total : 0
        }
    }

    public enum Boundary: Equatable, Sendable {
        case at(Int)  // index into the epochs
        case noPhase1  // the minimum is the first epoch
        case noPhase2  // the minimum is the last epoch
    }

    /// The boundary on a high-order share series.
    public static func boundary(_ share: [Double], window: Int) -> Boundary {
        let s = movingMedian(share, window: window)
        guard let least = s.min(), let i = s.firstIndex(of: least) else { return .noPhase2 }
        if s.count > 1, i == s.count - 1 { return .noPhase2 }
        if i == 0 { return .noPhase1 }
        return .at(i)
    }

    /// The default kHigh: the orders above n/2.
    public static func defaultHighOrder(n: Int) -> Int { n / 2 + 1 }

    /// The boundary for kHigh ∈ {k−1, k, k+1} (within 2…n) and windows {1, 3, 5}: the robustness check.
    public static func variants(_ strength: [[Double]], n: Int, kHigh: Int) -> [(kHigh: Int, window: Int, boundary: Boundary)] {
        var out: [(Int, Int, Boundary)] = []
        for k in Set([kHigh - 1, kHigh, kHigh + 1]).filter({ $0 >= 2 && $0 <= n }).sorted() {
            let share = highShare(strength, from: k)
            for w in [1, 3, 5] { out.append((k, w, boundary(share, window: w))) }
        }
        return out
    }

    /// Where the loss gap opens (index into the epochs), or nil when it never widens (its smoothed maximum is at
    /// the first epoch). A hinge g(x) = c + s·max(0, x − x_b) is fitted by least squares to the raw gap over the
    /// epochs up to the smoothed gap's maximum, for every breakpoint b before it; the b with the smallest squared
    /// error (and s > 0) is the opening. O(E²).
    public static func gapOpening(epochs: [Double], train: [Double], test: [Double], window: Int) -> Int? {
        let raw = zip(test, train).map { $0 - $1 }
        let smooth = movingMedian(raw, window: window)
        guard let top = smooth.max(), let peak = smooth.firstIndex(of: top), peak > 0 else { return nil }
        var best: (b: Int, sse: Double)? = nil
        for b in 0..<peak {
            let h = (0...peak).map { max(0, epochs[$0] - epochs[b]) }
            let y = Array(raw[0...peak])
            let m = Double(peak + 1)
            let (sh, shh) = (h.reduce(0, +), h.reduce(0) { $0 + $1 * $1 })
            let (sy, shy) = (y.reduce(0, +), zip(h, y).reduce(0) { $0 + $1.0 * $1.1 })
            let det = m * shh - sh * sh
            guard det > 0 else { continue }
            let slope = (m * shy - sh * sy) / det
            let c = (sy - slope * sh) / m
            guard slope > 0 else { continue }
            let sse = zip(h, y).reduce(0) { $0 + pow($1.1 - c - slope * $1.0, 2) }
            if best == nil || sse < best!.sse - 1e-15 * max(1, sse) { best = (b, sse) }
        }
        return best?.b
    }
}
