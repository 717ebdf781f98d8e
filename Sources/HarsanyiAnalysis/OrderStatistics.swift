import Foundation

/// How "salient" is decided for an analysis over samples (spec §6): |I(S)| ≥ τ (> τ with `strict`), I ≠ 0, with
///   sample: τ = tau · max_S |I(S|x)| over the sample's concatenated [I_and; I_or] (the ICLR'24 sparsity rule);
///   pooled: τ = tau · max over every sample's |I| (Chen et al. Fig. 2);
///   model:  τ = tau · E_x |v(x_N) − v(x_∅)| (Chen et al. Fig. 4; tau = 0.03 there).
public struct SalientThreshold: Sendable, Equatable {
    public enum Reference: String, Sendable, CaseIterable { case sample, pooled, model }
    public var reference: Reference
    public var tau: Double
    public var strict: Bool

    public init(reference: Reference = .sample, tau: Double? = nil, strict: Bool = false) {
        self.reference = reference
        self.tau = tau ?? (reference == .model ? 0.03 : 0.05)
        self.strict = strict
    }

    /// The threshold of each sample.
    public func values(_ run: RunSamples) -> [Double] {
        let maxima = run.samples.map { max($0.iand.map(abs).max() ?? 0, $0.ior.map(abs).max() ?? 0) }
        switch reference {
        case .sample: return maxima.map { tau * $0 }
        case .pooled: return Array(repeating: tau * (maxima.max() ?? 0), count: maxima.count)
        case .model:
            let mean = run.samples.map { abs($0.spread) }.reduce(0, +) / Double(run.samples.count)
            return Array(repeating: tau * mean, count: maxima.count)
        }
    }

    public func isSalient(_ x: Double, threshold t: Double) -> Bool { x != 0 && (strict ? abs(x) > t : abs(x) >= t) }
}

/// Per-order statistics of one interaction type (AND, OR, or both together) over the samples of a run, each a
/// mean over samples x of a per-sample quantity over the C(n, k) subsets S of order k:
///   positive I⁺(k) = E_x Σ_S max(I(S|x), 0), negative I⁻(k) = E_x Σ_S min(I(S|x), 0)   (all S: spec §7);
///   salientPositive/Negative: the same over salient S only (Chen et al. Fig. 4);
///   salientCount = E_x #{S salient}; meanAbs = E_x mean_S |I(S|x)|;
///   eta η^(k) = E_x [Σ_S I(S|x) / Σ_S |I(S|x)|] over the samples with Σ_S |I| > 0 (spec §11), etaSamples of them.
/// With normalisation, every strength (not the counts or η) is divided by E_x |v(x_N) − v(x_∅)|.
public struct TypeOrderStats: Sendable, Equatable {
    public var positive = 0.0, negative = 0.0, salientPositive = 0.0, salientNegative = 0.0
    public var salientCount = 0.0, meanAbs = 0.0, eta = 0.0
    public var etaSamples = 0
}

public struct OrderRow: Sendable, Equatable {
    public var order: Int
    public var subsets: Int
    public var and = TypeOrderStats(), or = TypeOrderStats(), both = TypeOrderStats()
}

/// `harsanyi analyze orders`: the per-order distribution of interaction strength over a run's samples.
/// Cost O(samples · 2^n).
public struct OrderStatistics {
    public let rows: [OrderRow]
    public let thresholds: [Double]
    /// E_x |v(x_N) − v(x_∅)|, the normalisation constant.
    public let meanSpread: Double
    public let normalized: Bool

    public init(_ run: RunSamples, threshold: SalientThreshold, normalize: Bool) {
        let n = run.n
        let count = 1 << n
        let samples = run.samples
        let thresholds = threshold.values(run)
        let spread = samples.map { abs($0.spread) }.reduce(0, +) / Double(samples.count)
        let scale = normalize && spread > 0 ? 1 / spread : 1
        var rows = (0...n).map { OrderRow(order: $0, subsets: Self.binomial(n, $0)) }
        // Per sample, accumulate per order and type; then average.
        for (x, sample) in samples.enumerated() {
            var acc = [[TypeOrderStats]](repeating: [TypeOrderStats](repeating: .init(), count: 3), count: n + 1)
            var signed = [[Double]](repeating: [0, 0, 0], count: n + 1)
            for s in 0..<count {
                let k = s.nonzeroBitCount
                for (t, value) in [(0, sample.iand[s]), (1, sample.ior[s])] {
                    for slot in [t, 2] {
                        acc[k][slot].positive += max(value, 0)
                        acc[k][slot].negative += min(value, 0)
                        acc[k][slot].meanAbs += abs(value)
                        signed[k][slot] += value
                        if threshold.isSalient(value, threshold: thresholds[x]) {
                            acc[k][slot].salientCount += 1
                            if value > 0 {
                                acc[k][slot].salientPositive += value
                            } else {
                                acc[k][slot].salientNegative += value
                            }
                        }
                    }
                }
            }
            for k in 0...n {
                for slot in 0..<3 {
                    var a = acc[k][slot]
                    let terms = Double(rows[k].subsets * (slot == 2 ? 2 : 1))
                    if a.meanAbs > 0 {
                        a.eta = signed[k][slot] / a.meanAbs
                        a.etaSamples = 1
                    }
                    a.meanAbs /= terms
                    Self.add(&rows[k], slot, a)
                }
            }
        }
        let m = Double(samples.count)
        for k in 0...n {
            for slot in 0..<3 {
                var a = Self.get(rows[k], slot)
                a.positive *= scale / m
                a.negative *= scale / m
                a.salientPositive *= scale / m
                a.salientNegative *= scale / m
                a.meanAbs *= scale / m
                a.salientCount /= m
                a.eta = a.etaSamples > 0 ? a.eta / Double(a.etaSamples) : 0
                Self.set(&rows[k], slot, a)
            }
        }
        self.rows = rows
        self.thresholds = thresholds
        self.meanSpread = spread
        self.normalized = normalize
    }

    static func get(_ r: OrderRow, _ slot: Int) -> TypeOrderStats { slot == 0 ? r.and : slot == 1 ? r.or : r.both }
    static func set(_ r: inout OrderRow, _ slot: Int, _ a: TypeOrderStats) {
        if slot == 0 { r.and = a } else if slot == 1 { r.or = a } else { r.both = a }
    }
    static func add(_ r: inout OrderRow, _ slot: Int, _ a: TypeOrderStats) {
        var b = get(r, slot)
        b.positive += a.positive
        b.negative += a.negative
        b.salientPositive += a.salientPositive
        b.salientNegative += a.salientNegative
        b.salientCount += a.salientCount
        b.meanAbs += a.meanAbs
        b.eta += a.eta
        b.etaSamples += a.etaSamples
        set(&r, slot, b)
    }

    public static func binomial(_ n: Int, _ k: Int) -> Int {
        guard k >= 0, k <= n else { return 0 }
        var c = 1
        for i in 0..<min(k, n - k) { c = c * (n - i) / (i + 1) }
        return c
    }

    /// The JSON form: per order, per type ("and", "or", "both"), every statistic.
    public func json() -> [[String: Any]] {
        rows.map { row in
            var out: [String: Any] = ["order": row.order, "subsets": row.subsets]
            for (name, a) in [("and", row.and), ("or", row.or), ("both", row.both)] {
                out[name] =
                    [
                        "positive": a.positive, "negative": a.negative, "salient_positive": a.salientPositive,
                        "salient_negative": a.salientNegative, "salient_count": a.salientCount, "mean_abs": a.meanAbs,
                        "eta": a.eta, "eta_samples": a.etaSamples,
                    ] as [String: Any]
            }
            return out
        }
    }
}
