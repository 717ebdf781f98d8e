import Foundation

/// Progress of a long phase on stderr. On a terminal: one bar redrawn in place (carriage return) at most ten
/// times a second, ended with a newline by `finish`. Otherwise (a log file, CI): one line every 5 s. Nothing is
/// shown for phases that end within their first second.
final class ProgressBar {
    /// While set, new bars draw nothing (a dataset run shows one bar over its samples, not each sample's phases).
    nonisolated(unsafe) static var muted = false
    private let silent = ProgressBar.muted
    private let label: String
    private let total: Int
    private let unit: String
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var drawn = false
    private let terminal = isatty(2) != 0
    private let width = 30

    /// - Parameters: label: what runs ("masked forwards"); total: units of work; unit: their name, plural.
    init(label: String, total: Int, unit: String) {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
    }

    private var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }

    /// Reports `done` units finished (monotone); `detail` is appended (e.g. the current loss).
    func update(_ done: Int, detail: String = "") {
        let now = DispatchTime.now().uptimeNanoseconds
        let elapsed = Double(now - start) * 1e-9
        guard elapsed >= 1, !silent else { return }
        let interval: UInt64 = terminal ? 100_000_000 : 5_000_000_000
        guard !drawn || now - lastDraw >= interval || done >= total else { return }
        lastDraw = now
        drawn = true
        let fraction = min(1, Double(done) / Double(total))
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let stats = String(format: "%3.0f%% %d/%d %@ (%@ %@/s, %@ left)%@", fraction * 100, done, total, unit, Self.short(rate), unit,
                           Self.duration(eta), detail.isEmpty ? "" : ", " + detail)
        if terminal {
            let filled = Int((fraction * Double(width)).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\rharsanyi: \(label) [\(bar)] \(stats)\u{1B}[K".utf8))
        } else {
            Console.note("\(label): \(stats)")
        }
    }

    /// Ends the bar (a newline on a terminal when something was drawn).
    func finish() {
        if terminal && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }

    static func short(_ x: Double) -> String {
        if x >= 1e6 { return String(format: "%.2fM", x / 1e6) }
        if x >= 1e4 { return String(format: "%.0fk", x / 1e3) }
        return String(format: "%.0f", x)
    }

    static func duration(_ s: Double) -> String {
        if s >= 3600 { return String(format: "%dh%02dm", Int(s) / 3600, Int(s) % 3600 / 60) }
        if s >= 60 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
        return String(format: "%.0fs", s)
    }
}
