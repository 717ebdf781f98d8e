import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Studies across the samples of dataset runs (made by `harsanyi extract --indices/--all/...`).",
        subcommands: [
            AnalyzeOrders.self, AnalyzeGeneralization.self, AnalyzeTransfer.self, AnalyzeBound.self, AnalyzeShared.self,
            AnalyzeDynamics.self,
        ])
}

/// The salient rule of an analysis (spec §6), shared by the analyze subcommands.
struct ThresholdOptions: ParsableArguments {
    @Option(
        help: """
            sample (τ·max|I| of each sample), pooled (τ·max|I| over all samples) or model (τ·E|v(N)−v(∅)|).
            """)
    var threshold: String = "sample"
    @Option(help: "τ (default 0.05; 0.03 with --threshold model, as in Chen et al.).")
    var tau: Double?
    @Flag(help: "Salient means |I| > τ (default |I| ≥ τ).")
    var strict = false

    func make() throws -> SalientThreshold {
        guard let reference = SalientThreshold.Reference(rawValue: threshold) else {
            throw HarsanyiError.invalidArgument("--threshold must be sample, pooled or model, got \(threshold)")
        }
        if let tau, !(tau > 0 && tau.isFinite) { throw HarsanyiError.invalidArgument("--tau must be positive") }
        return SalientThreshold(reference: reference, tau: tau, strict: strict)
    }
}

/// Where an analysis writes: a JSON file and its figure beside it (same name, .svg).
struct AnalysisOutput: ParsableArguments {
    @Option(help: "Output JSON (default: RUN/<analysis>.json for one run; required for several).")
    var out: String?

    func path(runs: [String], name: String) throws -> String {
        if let out { return out }
        guard runs.count == 1 else {
            throw HarsanyiError.invalidArgument("several runs: say where with --out FILE.json")
        }
        return runs[0] + "/" + name + ".json"
    }

    static func write(_ json: [String: Any], to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Array(data) + [10], to: path)
    }

    /// The figure's path: the JSON's, with .svg.
    static func figurePath(_ json: String) -> String {
        (json.hasSuffix(".json") ? String(json.dropLast(5)) : json) + ".svg"
    }

    static func write(_ figure: Figure, beside json: String) throws {
        let path = figurePath(json)
        do { try figure.write(to: path) } catch {
            throw HarsanyiError.io(path: path, reason: "cannot write the figure")
        }
    }
}
