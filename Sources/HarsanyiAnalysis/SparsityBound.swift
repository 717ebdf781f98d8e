import Foundation

/// The sparsity bound of Ren et al. (ICLR 2024) per sample and order, as the reference code computes it (spec §11;
/// a reconstruction, validated against a numpy port). With u(S) = v(x_S) − v(x_∅), ū^(m) = mean_{|S|=m} u(S) and
/// I the AND interactions (Harsanyi dividends) of the run:
///
///     p        = max_{m ≥ 2} log(ū^(m)/ū^(1)) / log m          (needs ū^(1) > 0 and ū^(m) > 0)
///     A^(k)    = Σ_{|S|=k} I(S),  η^(k) = A^(k) / Σ_{|S|=k} |I(S)|
///     |A^(k)/ū^(1)| = Σ_i a_i n^i in base n (the fraction goes into a_0), s_k its sign
///     δ_k      = log_n(Σ_{i ≥ ⌊p⌋} a_i n^i) − p,  δ = max_k δ_k,  λ^(k) = s_k n^{δ_k − δ}
///     bound_k  = ū^(1) / (τ |η^(k)|) · |λ^(k) n^{p+δ} + s_k Σ_{i < ⌊p⌋} a_i n^i|
///              ≥ R^(k) = #{|S| = k: |I(S)| ≥ τ}
///
/// with τ = tau · max_S |I(S)| (tau = 0.05). The identity
/// A^(k)/ū^(1) = λ^(k) n^{p+δ} + s_k Σ_{i<⌊p⌋} a_i n^i makes
/// bound_k = |A^(k)| / (τ|η^(k)|) = Σ_{|S|=k}|I(S)|/τ, which is ≥ R^(k); the check that it is never below is a
/// check of the arithmetic. The assumptions (monotone ū^(m); ū^(1) > 0) are reported per sample, not enforced.
public struct SparsityBound {
    public struct Order: Sendable {
        public var k: Int, a: Double, eta: Double?, lambda: Double?, deltaK: Double?, count: Int, bound: Double?
    }

    public struct Sample: Sendable {
        public var index: Int
        public var uBar: [Double]
        public var p: Double?
        public var delta: Double?
        public var monotonic: Bool
        public var problems: [String]
        public var orders: [Order]
        public var tau: Double
    }

    public static func analyse(_ s: RunSamples.Sample, n: Int, tau: Double = 0.05) -> Sample {
        let count = 1 << n
        var sums = [Double](repeating: 0, count: n + 1)
        var sizes = [Int](repeating: 0, count: n + 1)
        for set in 0..<count {
            sums[set.nonzeroBitCount] += s.v[set] - s.v[0]
            sizes[set.nonzeroBitCount] += 1
        }
        let uBar = (0...n).map { sums[$0] / Double(sizes[$0]) }
        var problems: [String] = []
        let monotonic = n < 2 || (1..<n).allSatisfy { uBar[$0 + 1] >= uBar[$0] }
        if !monotonic { problems.append("ū^(m) is not monotone in m (assumption ii)") }
        var p: Double? = nil
        if n >= 2, uBar[1] > 0, (2...n).allSatisfy({ uBar[$0] > 0 }) {
            p = (2...n).map { log(uBar[$0] / uBar[1]) / log(Double($0)) }.max()
        } else {
            problems.append("ū^(1) or some ū^(m) is not positive: p is undefined")
        }
        let threshold = tau * (s.iand.map(abs).max() ?? 0)
        var a = [Double](repeating: 0, count: n + 1)
        var absSum = a
        var counts = [Int](repeating: 0, count: n + 1)
        for set in 0..<count {
            let k = set.nonzeroBitCount
            let x = s.iand[set]
            a[k] += x
            absSum[k] += abs(x)
            if x != 0 && abs(x) >= threshold { counts[k] += 1 }
        }
        var orders = (0...n).map {
            Order(
                k: $0, a: a[$0], eta: absSum[$0] > 0 ? a[$0] / absSum[$0] : nil, lambda: nil, deltaK: nil,
                count: counts[$0], bound: nil)
        }
        var delta: Double? = nil
        if let p, uBar[1] > 0 {
            let base = Double(n)
            let floorP = Int(p.rounded(.down))
            var high = [Double](repeating: 0, count: n + 1)
            var low = high
            for k in 1...n {
                (high[k], low[k]) = Self.split(abs(a[k] / uBar[1]), base: base, at: max(floorP, 0))
                if high[k] > 0 { orders[k].deltaK = log(high[k]) / log(base) - p }
            }
            delta = orders.compactMap(\.deltaK).max()
            for k in 1...n {
                let sign: Double = a[k] < 0 ? -1 : 1
                if let dk = orders[k].deltaK, let delta { orders[k].lambda = sign * pow(base, dk - delta) }
                guard let eta = orders[k].eta, eta != 0, threshold > 0 else { continue }
                let main = (orders[k].lambda ?? 0) * pow(base, p + (delta ?? 0))
                orders[k].bound = uBar[1] / (threshold * abs(eta)) * abs(main + sign * low[k])
            }
        }
        return Sample(
            index: s.index, uBar: uBar, p: p, delta: delta, monotonic: monotonic, problems: problems,
            orders: orders, tau: threshold)
    }

    /// x = Σ_i a_i b^i with integer digits (the fraction in a_0):
    /// returns (Σ_{i ≥ at} a_i b^i, Σ_{i < at} a_i b^i).
    static func split(_ x: Double, base b: Double, at: Int) -> (Double, Double) {
        guard at > 0 else { return (x, 0) }
        let cut = pow(b, Double(at))
        let high = (x / cut).rounded(.down) * cut
        return (high, x - high)
    }
}
