import Foundation

/// How salient primitives recur across samples (spec §8, from the reference code's ICML'23 notebooks). A primitive
/// is a (type, S) pair; Ω_x is the set of primitives salient in sample x (the threshold rule of `SalientThreshold`).
///
///   cover ratio   |Ω_x ∩ Ω_x'| / |Ω_x| over ordered pairs x ≠ x' of the same class (mean per class, then over
///                 classes): how much of one sample's explanation recurs in another's;
///   α(S)          the fraction of a class's samples in which S is salient;
///   β(S)          max(m⁺, m⁻) / (m⁺ + m⁻), m± the number of those samples where S is salient with that sign
///                 (discrimination power: 1 = always the same sign);
///   score         Σ_S α(S)·β(S) / Σ_S α(S) over the primitives salient somewhere (the α-weighted mean of β);
///   sparsity      pooled |I| over all samples and primitives, sorted descending, divided by its maximum.
///
/// Cost O(samples² · 2^n) for the cover ratio, O(samples · 2^n · log) for the rest.
public struct Transferability {
    public struct ClassResult: Sendable {
        public var target: Int
        public var samples: Int
        public var coverRatio: Double?
        public var score: Double?
        /// (α, β) of every primitive salient in at least one sample of the class, by (type, S) order.
        public var alphaBeta: [(alpha: Double, beta: Double)]
    }

    public let classes: [ClassResult]
    public let meanCoverRatio: Double?
    public let meanScore: Double?
    /// Sorted pooled |I| / max|I| (descending), all samples, AND and OR.
    public let sparsity: [Double]

    public init(_ run: RunSamples, threshold: SalientThreshold) {
        let thresholds = threshold.values(run)
        let count = 1 << run.n
        // Per sample: the salient primitives (index t·2^n + S, t = 0 AND, 1 OR) and their signs.
        var salient: [[Int: Bool]] = []
        var pooled: [Double] = []
        for (x, s) in run.samples.enumerated() {
            var set: [Int: Bool] = [:]
            for t in 0..<2 {
                let values = t == 0 ? s.iand : s.ior
                for k in 0..<count {
                    pooled.append(abs(values[k]))
                    if threshold.isSalient(values[k], threshold: thresholds[x]) { set[t * count + k] = values[k] > 0 }
                }
            }
            salient.append(set)
        }
        let top = pooled.max() ?? 0
        sparsity = top > 0 ? pooled.sorted(by: >).map { $0 / top } : pooled.map { _ in 0 }
        let byClass = Dictionary(grouping: run.samples.indices) { run.samples[$0].target ?? -1 }
        var results: [ClassResult] = []
        for c in byClass.keys.sorted() {
            let members = byClass[c]!
            var ratios: [Double] = []
            for a in members where !salient[a].isEmpty {
                for b in members where b != a {
                    let shared = salient[a].keys.filter { salient[b][$0] != nil }.count
                    ratios.append(Double(shared) / Double(salient[a].count))
                }
            }
            var plus: [Int: Int] = [:]
            var minus: [Int: Int] = [:]
            for m in members {
                for (key, positive) in salient[m] {
                    if positive { plus[key, default: 0] += 1 } else { minus[key, default: 0] += 1 }
                }
            }
            let keys = Set(plus.keys).union(minus.keys).sorted()
            let ab: [(alpha: Double, beta: Double)] = keys.map { key in
                let p = Double(plus[key] ?? 0)
                let q = Double(minus[key] ?? 0)
                return ((p + q) / Double(members.count), max(p, q) / (p + q))
            }
            let weight = ab.map(\.alpha).reduce(0, +)
            results.append(
                ClassResult(
                    target: c, samples: members.count,
                    coverRatio: ratios.isEmpty ? nil : ratios.reduce(0, +) / Double(ratios.count),
                    score: weight > 0 ? ab.map { $0.alpha * $0.beta }.reduce(0, +) / weight : nil, alphaBeta: ab))
        }
        classes = results
        let covers = results.compactMap(\.coverRatio)
        let scores = results.compactMap(\.score)
        meanCoverRatio = covers.isEmpty ? nil : covers.reduce(0, +) / Double(covers.count)
        meanScore = scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count)
    }
}
