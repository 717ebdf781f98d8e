import Foundation

/// How a scale maps data values to pixels.
public enum ScaleKind: Sendable, Equatable {
    /// p = r0 + (v − d0)/(d1 − d0)·(r1 − r0).
    case linear
    /// p = r0 + (log10 v − log10 d0)/(log10 d1 − log10 d0)·(r1 − r0); defined for v > 0 only.
    case log10
}

/// A map from a data domain [d0, d1] to a pixel range [r0, r1], with "nice" ticks and compact tick labels.
///
/// The range may be reversed (r0 > r1), as for a y axis whose pixels grow downwards. On a log scale equal
/// ratios land at equal distances: 10 and 1000 are equally far from 100.
public struct Scale: Sendable, Equatable {
    public var kind: ScaleKind
    public var domain: (lower: Double, upper: Double)
    public var range: (start: Double, end: Double)

    public init(kind: ScaleKind = .linear, domain: (lower: Double, upper: Double),
                range: (start: Double, end: Double)) {
        self.kind = kind
        self.domain = domain
        self.range = range
    }

    public static func == (a: Scale, b: Scale) -> Bool {
        a.kind == b.kind && a.domain == b.domain && a.range == b.range
    }

    /// The pixel position of `value`; `nil` for NaN, ±inf, and values ≤ 0 on a log scale.
    /// Values outside the domain map outside the range (the caller clips).
    public func map(_ value: Double) -> Double? {
        guard let t = fraction(value) else { return nil }
        let p = range.start + t * (range.end - range.start)
        return p.isFinite ? p : nil
    }

    /// (v − d0)/(d1 − d0) in the scale's own space (log10 for a log scale); a zero-width domain maps to ½.
    func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch kind {
        case .linear:
            let span = domain.upper - domain.lower
            return span == 0 ? 0.5 : (value - domain.lower) / span
        case .log10:
            guard value > 0, domain.lower > 0, domain.upper > 0 else { return nil }
            let a = Foundation.log10(domain.lower), b = Foundation.log10(domain.upper)
            return b == a ? 0.5 : (Foundation.log10(value) - a) / (b - a)
        }
    }

    /// The major ticks inside the domain, about `target` of them (see ``linearTicks(lower:upper:target:)`` and
    /// ``logTicks(lower:upper:target:)``).
    public func ticks(target: Int = 5) -> [Double] {
        let lo = min(domain.lower, domain.upper), hi = max(domain.lower, domain.upper)
        switch kind {
        case .linear: return Scale.linearTicks(lower: lo, upper: hi, target: target)
        case .log10: return Scale.logTicks(lower: lo, upper: hi, target: target)
        }
    }

    /// Unlabelled minor ticks: on a log scale 2…9 × 10^k inside the domain when the major ticks are single
    /// decades; none on a linear scale.
    public func minorTicks(target: Int = 5) -> [Double] {
        guard kind == .log10 else { return [] }
        let lo = min(domain.lower, domain.upper), hi = max(domain.lower, domain.upper)
        guard lo > 0, hi > lo else { return [] }
        let first = Int(floor(Foundation.log10(lo))), last = Int(ceil(Foundation.log10(hi)))
        guard last - first <= max(target, 2) * 2 else { return [] }
        var out: [Double] = []
        for k in first...last {
            for m in 2...9 {
                let v = Double(m) * pow(10, Double(k))
                if v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12) { out.append(v) }
            }
        }
        return out
    }

    /// The label of tick `value` among `ticks`: on a log scale 10^k as `10⁻³` (and m·10^k as `2×10⁻³`); on a
    /// linear scale see ``linearLabel(_:step:)`` with the step between neighbouring ticks.
    public func label(_ value: Double, among ticks: [Double]) -> String {
        switch kind {
        case .log10: return Scale.logLabel(value)
        case .linear:
            let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : abs(value)
            let largest = ticks.map(abs).max() ?? abs(value)
            return Scale.linearLabel(value, step: step, largest: largest)
        }
    }

    // MARK: - Tick choice

    /// The "nice" step for a span: the smallest of 1, 2, 5 × 10^k that is at least span/target.
    ///
    /// With target 5: 0…0.37 → 0.1, −3…17 → 5, 0…4 → 1, 0…1 → 0.2, 0…100 → 20.
    public static func niceStep(span: Double, target: Int) -> Double {
        guard span.isFinite, span > 0 else { return 1 }
        let raw = span / Double(max(target, 1))
        let magnitude = pow(10, floor(Foundation.log10(raw)))
        for m in [1.0, 2, 5, 10] where m * magnitude >= raw * (1 - 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    /// Multiples of ``niceStep(span:target:)`` inside [lower, upper] (within 10^-9 of the step at the ends),
    /// computed as integer multiples i·step so no error accumulates.
    public static func linearTicks(lower: Double, upper: Double, target: Int = 5) -> [Double] {
        guard lower.isFinite, upper.isFinite else { return [] }
        if lower == upper { return [lower] }
        let step = niceStep(span: upper - lower, target: target)
        let first = Int((lower / step - 1e-9).rounded(.up)), last = Int((upper / step + 1e-9).rounded(.down))
        guard last >= first, last - first < 1000 else { return [] }
        return (first...last).map { $0 == 0 ? 0 : Double($0) * step }
    }

    /// The smallest interval of whole nice steps containing [lower, upper]: 0…0.37 → 0…0.4, −3…17 → −5…20.
    /// A single value v is widened to v ± 1 (or ±10 % of |v|) first.
    public static func niceDomain(lower: Double, upper: Double, target: Int = 5) -> (lower: Double, upper: Double) {
        var lo = lower, hi = upper
        if !(lo.isFinite && hi.isFinite) { return (0, 1) }
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let step = niceStep(span: hi - lo, target: target)
        return ((lo / step + 1e-9).rounded(.down) * step, (hi / step - 1e-9).rounded(.up) * step)
    }

    /// Decades 10^k inside [lower, upper]; every j-th decade when there would be more than 2·target of them
    /// (j = ⌈count/target⌉). Within less than two decades 1, 2, 5 × 10^k are used, and within less than one
    /// such tick the linear ticks.
    public static func logTicks(lower: Double, upper: Double, target: Int = 5) -> [Double] {
        guard lower > 0, upper >= lower, upper.isFinite else { return [] }
        let a = Foundation.log10(lower), b = Foundation.log10(upper)
        let first = Int((a - 1e-9).rounded(.up)), last = Int((b + 1e-9).rounded(.down))
        if last - first >= 1 {
            let count = last - first + 1
            let every = count > 2 * target ? Int((Double(count) / Double(target)).rounded(.up)) : 1
            let start = Int((Double(first) / Double(every)).rounded(.up)) * every
            return stride(from: start, through: last, by: every).map { pow(10, Double($0)) }
        }
        var out: [Double] = []
        for k in Int(floor(a)) - 1...Int(ceil(b)) {
            for m in [1.0, 2, 5] {
                let v = m * pow(10, Double(k))
                if v >= lower * (1 - 1e-9) && v <= upper * (1 + 1e-9) { out.append(v) }
            }
        }
        return out.count >= 2 ? out : linearTicks(lower: lower, upper: upper, target: target)
    }

    /// The smallest decade interval [10^a, 10^b] containing the positive values [lower, upper]; (1, 10) if none.
    public static func logDomain(lower: Double, upper: Double) -> (lower: Double, upper: Double) {
        guard lower > 0, upper >= lower, upper.isFinite else { return (1, 10) }
        var a = floor(Foundation.log10(lower) + 1e-9), b = ceil(Foundation.log10(upper) - 1e-9)
        if a == b { a -= 0; b += 1 }
        return (pow(10, a), pow(10, b))
    }

    // MARK: - Tick labels

    /// A linear tick label with as many decimals as the step needs (step 0.05 → `0.05`, `0.1`, `0.15`), trailing
    /// zeros dropped, `0` for zero and a typographic minus; exponent form (`1e-3`, `2.5e5`) when the step is
    /// below 0.001 or the largest tick reaches 10^5.
    public static func linearLabel(_ value: Double, step: Double, largest: Double) -> String {
        if abs(value) < abs(step) * 1e-9 || value == 0 { return "0" }
        let text: String
        if abs(step) > 0 && (abs(step) < 1e-3 || largest >= 1e5) {
            text = PlotFormat.exponentForm(abs(value), digits: 2).replacingOccurrences(of: "e-", with: "e−")
        } else {
            let decimals = step > 0 ? max(0, Int(ceil(-Foundation.log10(abs(step)) - 1e-9))) + 1 : 2
            text = PlotFormat.trimZeros(String(format: "%.\(min(decimals, 12))f", abs(value)))
        }
        return (value < 0 ? PlotFormat.minus : "") + text
    }

    /// A log tick label: `10ᵏ` with superscript exponent for a decade, `m×10ᵏ` otherwise.
    public static func logLabel(_ value: Double) -> String {
        guard value > 0, value.isFinite else { return "" }
        let k = Int(floor(Foundation.log10(value) + 1e-9))
        let m = value / pow(10, Double(k))
        let power = "10" + PlotFormat.superscript(k)
        if abs(m - 1) < 1e-6 { return power }
        return PlotFormat.trimZeros(String(format: "%.1f", m)) + "×" + power
    }
}
