import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot

struct AnalyzeTransfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "How salient primitives recur across the samples of each class (spec §8), and the sparsity curve.",
        discussion: """
            Per class (the target class of each sample): the mean cover ratio |Ω_x ∩ Ω_x'| / |Ω_x| over pairs of
            samples, the frequency α(S) and discrimination power β(S) = max(m⁺, m⁻)/(m⁺ + m⁻) of every primitive
            salient somewhere, and their α-weighted mean; pooled over all samples, the sorted |I| / max|I|.
            """)

    @Argument(help: "Run folders.")
    var runs: [String]
    @OptionGroup var thresholds: ThresholdOptions
    @OptionGroup var output: AnalysisOutput

    func run() throws {
        try reportingErrors {
            let rule = try thresholds.make()
            let path = try output.path(runs: runs, name: "transfer")
            let samples = try RunSamples(runs: runs)
            let t = Transferability(samples, threshold: rule)
            // The sparsity curve at up to 512 log-spaced ranks (its full length is 2^(n+1) per sample).
            let total = t.sparsity.count
            var ranks = Set<Int>()
            for j in 0..<512 { ranks.insert(min(total - 1, Int(pow(Double(total), Double(j) / 511).rounded()) - 1)) }
            let curve = ranks.filter { $0 >= 0 }.sorted().map { [Double($0 + 1), t.sparsity[$0]] }
            let json: [String: Any] = [
                "analysis": "transfer", "runs": runs, "n": samples.n, "samples": samples.samples.count,
                "threshold": [
                    "reference": rule.reference.rawValue, "tau": rule.tau, "comparison": rule.strict ? ">" : ">=",
                ],
                "mean_cover_ratio": t.meanCoverRatio.map { $0 as Any } ?? NSNull(),
                "mean_discrimination_score": t.meanScore.map { $0 as Any } ?? NSNull(),
                "classes": t.classes.map { c in
                    [
                        "target": c.target, "samples": c.samples,
                        "cover_ratio": c.coverRatio.map { $0 as Any } ?? NSNull(),
                        "discrimination_score": c.score.map { $0 as Any } ?? NSNull(),
                        "primitives_salient_somewhere": c.alphaBeta.count,
                        "alpha_beta": c.alphaBeta.map { [$0.alpha, $0.beta] },
                    ] as [String: Any]
                },
                "sparsity_curve": ["rank_and_normalized_abs_I": curve, "entries": total] as [String: Any],
            ]
            try AnalysisOutput.write(json, to: path)
            try AnalysisOutput.write(figure(t, curve: curve, samples: samples, rule: rule), beside: path)
            print("analyze transfer: \(samples.samples.count) samples, \(t.classes.count) classes -> \(path) and .svg")
            for c in t.classes {
                print(
                    String(
                        format: "class %d (%d samples): cover ratio %.3f, discrimination %.3f", c.target, c.samples,
                        c.coverRatio ?? .nan, c.score ?? .nan))
            }
        }
    }

    func figure(_ t: Transferability, curve: [[Double]], samples: RunSamples, rule: SalientThreshold) -> Figure {
        var fig = Figure(
            width: 1040, height: 400, rows: 1, cols: 3,
            title: "Transferability across samples (\(samples.samples.count) samples, n = \(samples.n))")
        var sparsity = Axes(title: "sparsity: sorted |I| / max|I|", xLabel: "rank", yLabel: "normalised |I|")
        sparsity.yScale = .log10
        sparsity.xScale = .log10
        sparsity.line(LineSeries("pooled |I|", x: curve.map { $0[0] }, y: curve.map { $0[1] }))
        sparsity.horizontalMarker(at: rule.tau, label: "τ = \(rule.tau)")
        fig.panels[0] = sparsity
        var cover = Axes(title: "cover ratio per class", xLabel: "class", yLabel: "mean |Ω ∩ Ω'| / |Ω|")
        cover.signedBars(
            categories: t.classes.map { String($0.target) },
            series: [SignedBarSeries("cover ratio", t.classes.map { $0.coverRatio ?? .nan })])
        fig.panels[1] = cover
        var ab = Axes(title: "discrimination power β vs frequency α", xLabel: "α (fraction of samples)", yLabel: "β")
        let all = t.classes.flatMap(\.alphaBeta)
        ab.scatter(ScatterSeries("primitives", x: all.map(\.alpha), y: all.map(\.beta)))
        fig.panels[2] = ab
        return fig
    }
}
