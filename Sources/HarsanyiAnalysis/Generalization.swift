import Foundation
import HarsanyiCore

/// Similarity of interactions between two sets of samples, per order (spec §8, after Zhou et al. AAAI'24):
///
///     u_c^(k)(X) = E_{x ∈ X, class c} (I_and(S|x), I_or(S|x))_{|S| = k}      (a vector of length 2·C(n, k))
///     J(u, w)    = Σ min(ũ, w̃) / (Σ max(ũ, w̃) + 1e-7),  ũ = [max(u, 0); −min(u, 0)]   (generalised Jaccard)
///     sim^(k)    = mean over the classes present in both sets of J(u_c^(k)(A), u_c^(k)(B))
///
/// The class of a sample is its target class (run.json). The control (not in the papers): the same similarity
/// between two random disjoint halves of one set, split per class, over `splits` seeded splits; its spread says
/// how much of a train-vs-test drop is sample-to-sample variation. Cost O(samples · 2^n) per comparison.
public enum Generalization {
    public static let epsilon = 1e-7

    /// J(u, w) on signed vectors.
    public static func jaccard(_ u: [Double], _ w: [Double]) -> Double {
        var num = 0.0
        var den = 0.0
        for (a, b) in zip(u, w) {
            num += min(max(a, 0), max(b, 0)) + min(max(-a, 0), max(-b, 0))
            den += max(max(a, 0), max(b, 0)) + max(max(-a, 0), max(-b, 0))
        }
        return num / (den + epsilon)
    }

    /// Per class, per order k, the mean (I_and, I_or) vector over the samples of that class in `members`.
    static func classMeans(_ samples: [RunSamples.Sample], _ members: [Int], n: Int) -> [Int: [[Double]]] {
        var sums: [Int: [[Double]]] = [:]
        var counts: [Int: Int] = [:]
        for m in members {
            let s = samples[m]
            let c = s.target ?? -1
            if sums[c] == nil {
                sums[c] = (0...n).map { [Double](repeating: 0, count: 2 * OrderStatistics.binomial(n, $0)) }
            }
            var position = [Int](repeating: 0, count: n + 1)
            for set in 0..<(1 << n) {
                let k = set.nonzeroBitCount
                let p = position[k]
                sums[c]![k][2 * p] += s.iand[set]
                sums[c]![k][2 * p + 1] += s.ior[set]
                position[k] += 1
            }
            counts[c, default: 0] += 1
        }
        return sums.mapValues { $0 }.reduce(into: [:]) { out, e in
            out[e.key] = e.value.map { $0.map { $0 / Double(counts[e.key]!) } }
        }
    }

    /// sim^(k) for k = 0…n between the samples `a` and `b` (indices into `samples`); classes in only one set are
    /// left out. Returns nil entries where no class is shared.
    public static func similarity(_ samples: [RunSamples.Sample], _ a: [Int], _ b: [Int], n: Int) -> [Double?] {
        let ma = classMeans(samples, a, n: n)
        let mb = classMeans(samples, b, n: n)
        let shared = Set(ma.keys).intersection(mb.keys).sorted()
        return (0...n).map { k in
            guard !shared.isEmpty else { return nil }
            return shared.map { jaccard(ma[$0]![k], mb[$0]![k]) }.reduce(0, +) / Double(shared.count)
        }
    }

    /// Random disjoint halves of `members`, split within each class (a class with one sample goes to neither).
    public static func halves(_ samples: [RunSamples.Sample], _ members: [Int], rng: inout SplitMix64)
        -> ([Int], [Int])
    {
        var a: [Int] = []
        var b: [Int] = []
        let byClass = Dictionary(grouping: members) { samples[$0].target ?? -1 }
        for c in byClass.keys.sorted() {
            var list = byClass[c]!
            guard list.count >= 2 else { continue }
            for i in stride(from: list.count - 1, to: 0, by: -1) { list.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            a += list[0..<(list.count / 2)]
            b += list[(list.count / 2)..<(2 * (list.count / 2))]
        }
        return (a, b)
    }
}
