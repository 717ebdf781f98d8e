import Foundation

/// Number and text formatting shared by every figure: fixed, locale-free and deterministic.
///
/// Coordinates are written rounded to ``coordinateResolution`` (0.01 px, i.e. two decimals) with trailing zeros
/// dropped (`100`, `12.5`, `3.07`), so the same figure always renders to the same bytes and a long polyline
/// stays compact. A rendered coordinate therefore differs from the exact scale mapping by at most half the
/// resolution (``coordinateTolerance``).
public enum PlotFormat {
    /// The grid every written coordinate is rounded to, in pixels (two decimals).
    public static let coordinateResolution = 0.01
    /// The largest difference between a written coordinate and the exact value: half the resolution.
    public static let coordinateTolerance = 0.005

    /// A coordinate rounded to two decimals, without trailing zeros and never "-0"; `nil` for NaN or ±inf.
    public static func coordinate(_ value: Double) -> String? {
        guard value.isFinite, abs(value) < 1e13 else { return nil }
        let hundredths = Int64((value * 100).rounded())
        if hundredths == 0 { return "0" }
        let magnitude = hundredths.magnitude
        let whole = magnitude / 100, fraction = magnitude % 100
        var text = hundredths < 0 ? "-" : ""
        text += String(whole)
        if fraction != 0 {
            text += fraction % 10 == 0 ? "." + String(fraction / 10) : (fraction < 10 ? ".0" : ".") + String(fraction)
        }
        return text
    }

    /// Like ``coordinate(_:)`` for values already known to be finite (non-finite values write "0").
    static func c(_ value: Double) -> String { coordinate(value) ?? "0" }

    /// Text escaped for XML character data and attribute values: `&`, `<`, `>`, `"` and `'` become entities,
    /// and control characters that XML 1.0 forbids are dropped.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The typographic minus sign (U+2212) used in every label instead of the hyphen.
    public static let minus = "\u{2212}"

    /// A value label with an explicit sign and two decimals, e.g. `+0.42`, `−1.25`; exponent form (`+1.2e-3`)
    /// below 0.01 or from 10^5 on, and `0` for zero. Non-finite values are written as `n/a`.
    public static func signed(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        if value == 0 { return "0" }
        let body = compact(abs(value))
        return (value > 0 ? "+" : minus) + body
    }

    /// A non-negative magnitude written compactly: two decimals between 0.01 and 10^5, else `1.2e-3` style.
    static func compact(_ magnitude: Double) -> String {
        if magnitude >= 0.01 && magnitude < 1e5 { return String(format: "%.2f", magnitude) }
        return exponentForm(magnitude, digits: 1)
    }

    /// `m e k` with `digits` decimals in the mantissa and trailing zeros dropped: 0.001 → `1e-3`, 25000 → `2.5e4`.
    static func exponentForm(_ value: Double, digits: Int) -> String {
        guard value != 0 else { return "0" }
        var exponent = Int(floor(log10(abs(value))))
        var mantissa = value / pow(10, Double(exponent))
        let scale = pow(10, Double(digits))
        mantissa = (mantissa * scale).rounded() / scale
        if abs(mantissa) >= 10 { mantissa /= 10; exponent += 1 }
        return trimZeros(String(format: "%.\(digits)f", mantissa)) + "e" + String(exponent)
    }

    /// "0.50" → "0.5", "2.00" → "2"; strings without a decimal point are returned as they are.
    static func trimZeros(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var t = text
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }

    /// An integer with Unicode superscript digits and minus, e.g. −4 → "⁻⁴" (for `10⁻⁴` on log axes).
    public static func superscript(_ exponent: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let body = String(String(exponent.magnitude).map { digits[Int(String($0))!] })
        return exponent < 0 ? "⁻" + body : body
    }

    /// The approximate width of `text` at `fontSize` px, for layout: 0.6 em per character (DejaVu Sans is wide;
    /// Helvetica/Arial are narrower, so this errs on the side of more room).
    static func textWidth(_ text: String, fontSize: Double) -> Double {
        Double(text.count) * fontSize * 0.6
    }
}
