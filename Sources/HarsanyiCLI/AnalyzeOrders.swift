import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot

struct AnalyzeOrders: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Interaction strength by order over the samples of one or more runs (spec §7).",
        discussion: """
            Per order k and for AND, OR and both together, means over samples of: I⁺(k) = Σ_{|S|=k} max(I, 0),
            I⁻(k) = Σ min(I, 0) (all S, and salient S only), the number of salient S, mean |I| and
            η(k) = Σ I / Σ |I|. --normalize divides strengths by E|v(N) − v(∅)|. Runs pooled together must share
            the model, the players and n.
            """)

    @Argument(help: "Run folders.")
    var runs: [String]
    @OptionGroup var thresholds: ThresholdOptions
    @Flag(help: "Divide strengths by E_x |v(x_N) − v(x_∅)| (comparable across models and epochs).")
    var normalize = false
    @OptionGroup var output: AnalysisOutput

    func run() throws {
        try reportingErrors {
            let rule = try thresholds.make()
            let path = try output.path(runs: runs, name: "orders")
            let samples = try RunSamples(runs: runs)
            let stats = OrderStatistics(samples, threshold: rule, normalize: normalize)
            let json: [String: Any] = [
                "analysis": "orders", "runs": runs, "n": samples.n, "samples": samples.samples.count,
                "threshold": [
                    "reference": rule.reference.rawValue, "tau": rule.tau, "comparison": rule.strict ? ">" : ">=",
                    "values": stats.thresholds,
                ] as [String: Any],
                "normalized_by": normalize ? "E|v(N) - v(empty)|" : "none",
                "mean_abs_v_N_minus_v_empty": stats.meanSpread,
                "orders": stats.json(),
            ]
            try AnalysisOutput.write(json, to: path)
            try AnalysisOutput.write(Self.figure(stats, samples: samples, rule: rule), beside: path)
            print("analyze orders: \(samples.samples.count) samples, n = \(samples.n) -> \(path) and .svg")
            for row in stats.rows {
                print(
                    String(
                        format: "order %2d: I+ %10.4g  I- %10.4g  salient %7.2f  mean|I| %9.3g  eta %6.3f",
                        row.order, row.both.positive, row.both.negative, row.both.salientCount, row.both.meanAbs,
                        row.both.eta))
            }
        }
    }
}

extension AnalyzeOrders {
    /// The papers' order plot: per order, I⁺(k) up and I⁻(k) down, for AND, OR and both; then the salient counts.
    static func figure(_ stats: OrderStatistics, samples: RunSamples, rule: SalientThreshold) -> Figure {
        var fig = Figure(
            width: 1040, height: 640, rows: 2, cols: 3,
            title: "Interaction strength by order: \(samples.samples.count) samples, n = \(samples.n)")
        let categories = stats.rows.map { String($0.order) }
        let unit = stats.normalized ? "strength / E|v(N) − v(∅)|" : "strength"
        for (col, (name, pick)) in [
            ("AND", { (r: OrderRow) in r.and }), ("OR", { (r: OrderRow) in r.or }),
            ("AND + OR", { (r: OrderRow) in r.both }),
        ].enumerated() {
            var top = Axes(title: "\(name): I⁺(k), I⁻(k) (all S)", xLabel: "order k", yLabel: unit)
            top.signedBars(
                categories: categories,
                series: [
                    SignedBarSeries("I⁺ (positive)", stats.rows.map { pick($0).positive }),
                    SignedBarSeries("I⁻ (negative)", stats.rows.map { pick($0).negative }),
                ], overlay: true)
            fig.panels[col] = top
            var bottom = Axes(
                title: "\(name): salient (\(rule.reference.rawValue), τ = \(rule.tau))", xLabel: "order k",
                yLabel: "mean count per sample")
            bottom.signedBars(
                categories: categories,
                series: [SignedBarSeries("salient count", stats.rows.map { pick($0).salientCount })])
            fig.panels[3 + col] = bottom
        }
        return fig
    }
}
