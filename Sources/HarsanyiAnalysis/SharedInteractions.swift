import Foundation
import HarsanyiCore

/// Metrics of interactions shared by several models (Chen et al., ICLR 2024; spec §9), over the samples of a study.
///
/// Each sample carries, per model i, the jointly extracted (I_and^(i), I_or^(i)) (after the reorganisation of §5.3)
/// and, for comparison, the model's own single-model extraction. A column j = (op, S) runs over the 2^(n+1) AND and
/// OR entries.
/// - **Overlap** s_and(r), s_or(r): Ω^(i) = the k = ⌊r·2^n⌋ largest |I_op^(i)| (ties: lower index first);
///   s = |∩_i Ω^(i)| / k, averaged over samples, for r = 0.05…0.45.
/// - **Salient**: |I^(i)_j| ≥ τ_i = tau·E_x |v_i(N) − v_i(∅)| (Chen et al. Fig. 4, tau = 0.03). **Shared**: salient
///   in every model with the same sign; **distinctive** (of model i): salient in i but not shared.
/// - **Strength per order** (Chen Fig. 4): per model and order k, means over samples of Σ max(I, 0) and Σ min(I, 0)
///   over the shared columns and over the model's distinctive columns of order k, and their counts.
///
/// - Complexity: O(samples · m · 2^n · log 2^n) (the top-k sorts).
public struct SharedInteractions {
    public struct Sample {
        public var index: Int
        public var target: Int?
        /// Per model: joint (after reorganisation) and single-model interactions, and v(N) − v(∅).
        public var joint: [(iand: [Double], ior: [Double])]
        public var single: [(iand: [Double], ior: [Double])]
        public var spread: [Double]

        public init(index: Int, target: Int?, joint: [(iand: [Double], ior: [Double])],
                    single: [(iand: [Double], ior: [Double])], spread: [Double]) {
            (self.index, self.target, self.joint, self.single, self.spread) = (index, target, joint, single, spread)
        }

        /// Model i's column j (AND for j < 2^n, then OR).
        func value(_ i: Int, _ j: Int, joint useJoint: Bool = true) -> Double {
            let x = useJoint ? joint[i] : single[i]
            return j < x.iand.count ? x.iand[j] : x.ior[j - x.iand.count]
        }
    }

    public struct OrderRow: Sendable {
        public var order: Int
        /// Per model.
        public var sharedPositive: [Double], sharedNegative: [Double]
        public var distinctivePositive: [Double], distinctiveNegative: [Double]
        /// Mean counts per sample (shared: one number; distinctive: per model).
        public var sharedCount: Double
        public var distinctiveCount: [Double]
    }

    /// Relative size below which |I| is numerically zero in the top-k ranking.
    public static let zeroFraction = 1e-9

    public let n: Int
    public let models: Int
    public let tau: Double
    /// τ_i per model.
    public let thresholds: [Double]
    /// r = 0.05…0.45 where k = ⌊r·2^n⌋ ≥ 1.
    public let ratios: [Double]
    /// s_and(r), s_or(r) of the joint and of the single-model extractions.
    public let jointAnd: [Double], jointOr: [Double], singleAnd: [Double], singleOr: [Double]
    public let orders: [OrderRow]
    /// Per sample, per column: shared (sign +1/−1) or 0; and per model the distinctive sign.
    let sharedSign: [[Int]]

    public init(_ samples: [Sample], n: Int, tau: Double = 0.03, thresholds given: [Double]? = nil) {
        let m = samples.first?.joint.count ?? 0
        self.n = n
        models = m
        self.tau = tau
        let thresholds = given ?? Self.modelThresholds(samples, models: m, tau: tau)
        self.thresholds = thresholds
        let count = 1 << n
        let ratios = (1...9).map { Double($0) * 0.05 }.filter { Int($0 * Double(count)) >= 1 }
        self.ratios = ratios
        func overlap(_ op: Int, joint: Bool, _ r: Double) -> Double {
            let k = Int(r * Double(count))
            guard k > 0, !samples.isEmpty else { return 0 }
            var total = 0.0
            for s in samples {
                var common: Set<Int>? = nil
                for i in 0..<m {
                    // |I| below 1e-9 of the sample's largest counts as 0, so that round-off does not order the
                    // zeros (ties go to the lower index).
                    var values = (0..<count).map { abs(s.value(i, op * count + $0, joint: joint)) }
                    let floor = Self.zeroFraction * (values.max() ?? 0)
                    for j in values.indices where values[j] <= floor { values[j] = 0 }
                    let top = Set(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
                    common = common.map { $0.intersection(top) } ?? top
                }
                total += Double(common?.count ?? 0) / Double(k)
            }
            return total / Double(samples.count)
        }
        jointAnd = ratios.map { overlap(0, joint: true, $0) }
        jointOr = ratios.map { overlap(1, joint: true, $0) }
        singleAnd = ratios.map { overlap(0, joint: false, $0) }
        singleOr = ratios.map { overlap(1, joint: false, $0) }

        let zeros = [Double](repeating: 0, count: m)
        var rows = (0...n).map {
            OrderRow(order: $0, sharedPositive: zeros, sharedNegative: zeros, distinctivePositive: zeros,
                     distinctiveNegative: zeros, sharedCount: 0, distinctiveCount: zeros)
        }
        var signs: [[Int]] = []
        for s in samples {
            var sign = [Int](repeating: 0, count: 2 * count)
            for j in 0..<(2 * count) {
                let k = (j % count).nonzeroBitCount
                let values = (0..<m).map { s.value($0, j) }
                let salient = values.indices.map { abs(values[$0]) >= thresholds[$0] && values[$0] != 0 }
                let shared = salient.allSatisfy { $0 } && (values.allSatisfy { $0 > 0 } || values.allSatisfy { $0 < 0 })
                if shared {
                    sign[j] = values[0] > 0 ? 1 : -1
                    rows[k].sharedCount += 1
                }
                for i in 0..<m where salient[i] {
                    if shared {
                        rows[k].sharedPositive[i] += max(values[i], 0)
                        rows[k].sharedNegative[i] += min(values[i], 0)
                    } else {
                        rows[k].distinctivePositive[i] += max(values[i], 0)
                        rows[k].distinctiveNegative[i] += min(values[i], 0)
                        rows[k].distinctiveCount[i] += 1
                    }
                }
            }
            signs.append(sign)
        }
        let c = Double(max(1, samples.count))
        for k in 0...n {
            rows[k].sharedCount /= c
            for i in 0..<m {
                rows[k].sharedPositive[i] /= c
                rows[k].sharedNegative[i] /= c
                rows[k].distinctivePositive[i] /= c
                rows[k].distinctiveNegative[i] /= c
                rows[k].distinctiveCount[i] /= c
            }
        }
        orders = rows
        sharedSign = signs
    }

    /// τ_i = tau·E_x |v_i(N) − v_i(∅)|.
    static func modelThresholds(_ samples: [Sample], models m: Int, tau: Double) -> [Double] {
        (0..<m).map { i in
            var total = 0.0
            for s in samples { total += abs(s.spread[i]) }
            return tau * total / Double(max(1, samples.count))
        }
    }

    /// The columns shared in at least one sample, most frequent first: (op, S, samples shared in, mean value per
    /// model over those samples).
    public func sharedList(_ samples: [Sample], limit: Int) -> [(op: String, set: Int, count: Int, mean: [Double])] {
        let count = 1 << n
        var tally: [Int: (Int, [Double])] = [:]
        for (x, s) in samples.enumerated() {
            for j in 0..<(2 * count) where sharedSign[x][j] != 0 {
                var e = tally[j] ?? (0, [Double](repeating: 0, count: models))
                e.0 += 1
                for i in 0..<models { e.1[i] += s.value(i, j) }
                tally[j] = e
            }
        }
        return tally.sorted { $0.value.0 > $1.value.0 || ($0.value.0 == $1.value.0 && $0.key < $1.key) }.prefix(limit)
            .map { j, e in (j < count ? "and" : "or", j % count, e.0, e.1.map { $0 / Double(e.0) }) }
    }

    /// Model i's distinctive columns (salient in i, not shared), most frequent first.
    public func distinctiveList(_ samples: [Sample], model i: Int, limit: Int)
        -> [(op: String, set: Int, count: Int, mean: Double)]
    {
        let count = 1 << n
        var tally: [Int: (Int, Double)] = [:]
        for (x, s) in samples.enumerated() {
            for j in 0..<(2 * count) where sharedSign[x][j] == 0 {
                let value = s.value(i, j)
                guard value != 0, abs(value) >= thresholds[i] else { continue }
                var e = tally[j] ?? (0, 0)
                e.0 += 1
                e.1 += value
                tally[j] = e
            }
        }
        return tally.sorted { $0.value.0 > $1.value.0 || ($0.value.0 == $1.value.0 && $0.key < $1.key) }.prefix(limit)
            .map { j, e in (j < count ? "and" : "or", j % count, e.0, e.1 / Double(e.0)) }
    }

    /// Whether shared primitives generalise better (spec §8's Jaccard restricted to column sets): per model i and
    /// class c, u_c = the mean over that class's samples of model i's joint (I_and, I_or); J(u_c(train), u_c(test))
    /// over the columns shared in ≥ half of the class's training samples, and over i's distinctive columns
    /// likewise; averaged over the classes present in both. nil where a class has no such column.
    public static func generalization(train: [Sample], trainShared: SharedInteractions, test: [Sample], n: Int)
        -> [(shared: Double?, distinctive: Double?)]
    {
        let count = 1 << n
        let m = trainShared.models
        func means(_ set: [Sample], model i: Int) -> [Int: [Double]] {
            var sums: [Int: [Double]] = [:]
            var counts: [Int: Int] = [:]
            for s in set {
                let c = s.target ?? -1
                var u = sums[c] ?? [Double](repeating: 0, count: 2 * count)
                for j in 0..<(2 * count) { u[j] += s.value(i, j) }
                sums[c] = u
                counts[c, default: 0] += 1
            }
            var out: [Int: [Double]] = [:]
            for (c, u) in sums { out[c] = u.map { $0 / Double(counts[c]!) } }
            return out
        }
        let byClass = Dictionary(grouping: train.indices) { train[$0].target ?? -1 }
        return (0..<m).map { i in
            let a = means(train, model: i)
            let b = means(test, model: i)
            var shared: [Double] = []
            var distinct: [Double] = []
            for c in Set(a.keys).intersection(b.keys).sorted() {
                let members = byClass[c] ?? []
                var sharedCols: [Int] = []
                var distinctCols: [Int] = []
                for j in 0..<(2 * count) {
                    let sharedIn = members.filter { trainShared.sharedSign[$0][j] != 0 }.count
                    let salientIn = members.filter {
                        let v = train[$0].value(i, j)
                        return v != 0 && abs(v) >= trainShared.thresholds[i] && trainShared.sharedSign[$0][j] == 0
                    }.count
                    if 2 * sharedIn >= members.count, sharedIn > 0 { sharedCols.append(j) }
                    else if 2 * salientIn >= members.count, salientIn > 0 { distinctCols.append(j) }
                }
                if !sharedCols.isEmpty {
                    shared.append(Generalization.jaccard(sharedCols.map { a[c]![$0] }, sharedCols.map { b[c]![$0] }))
                }
                if !distinctCols.isEmpty {
                    distinct.append(
                        Generalization.jaccard(distinctCols.map { a[c]![$0] }, distinctCols.map { b[c]![$0] }))
                }
            }
            func mean(_ x: [Double]) -> Double? { x.isEmpty ? nil : x.reduce(0, +) / Double(x.count) }
            return (mean(shared), mean(distinct))
        }
    }
}
