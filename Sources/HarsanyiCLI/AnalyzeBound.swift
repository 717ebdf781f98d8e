import ArgumentParser
import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot

struct AnalyzeBound: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bound",
        abstract: "The sparsity bound of Ren et al. (ICLR 2024) per sample and order, next to the real counts (§11).",
        discussion: """
            Per sample: ū^(m), p, δ, and per order A^(k), η^(k), λ^(k), δ_k, the number R^(k) of AND interactions with
            |I| ≥ τ = tau·max|I| and the bound on it. Samples that break an assumption (ū^(m) not monotone, ū^(1) ≤ 0)
            are listed with the reason, never dropped silently; --min-spread lists samples with v(N) − v(∅) below it.
            """)

    @Argument(help: "Run folders.")
    var runs: [String]
    @Option(help: "τ as a fraction of max|I_and| of each sample.")
    var tau = 0.05
    @Option(help: "List samples with v(N) − v(∅) below this as outside the papers' setting (1 for OPT, 2 LLaMA).")
    var minSpread: Double?
    @OptionGroup var output: AnalysisOutput

    func run() throws {
        try reportingErrors {
            guard tau > 0, tau.isFinite else { throw HarsanyiError.invalidArgument("--tau must be positive") }
            let path = try output.path(runs: runs, name: "bound")
            let samples = try RunSamples(runs: runs)
            let results = samples.samples.map { SparsityBound.analyse($0, n: samples.n, tau: tau) }
            var violations = 0
            let rows: [[String: Any]] = zip(samples.samples, results).map { s, r in
                var problems = r.problems
                if let minSpread, s.spread < minSpread {
                    problems.append("v(N) − v(∅) = \(s.spread) < \(minSpread)")
                }
                for o in r.orders where (o.bound.map { Double(o.count) > $0 * (1 + 1e-9) } ?? false) { violations += 1 }
                return [
                    "run": s.run, "index": s.index, "u_bar": r.uBar, "p": r.p.map { $0 as Any } ?? NSNull(),
                    "delta": r.delta.map { $0 as Any } ?? NSNull(), "monotonic": r.monotonic, "tau": r.tau,
                    "problems": problems,
                    "orders": r.orders.map { o in
                        [
                            "order": o.k, "A": o.a, "eta": o.eta.map { $0 as Any } ?? NSNull(),
                            "lambda": o.lambda.map { $0 as Any } ?? NSNull(),
                            "delta_k": o.deltaK.map { $0 as Any } ?? NSNull(), "count": o.count,
                            "bound": o.bound.map { $0 as Any } ?? NSNull(),
                        ] as [String: Any]
                    },
                ]
            }
            let json: [String: Any] = [
                "analysis": "bound", "runs": runs, "n": samples.n, "tau": tau, "samples": rows,
                "bound_below_count": violations,
                "note": "reconstruction of Ren et al. (ICLR 2024) as the reference code computes it (spec section 11)",
            ]
            try AnalysisOutput.write(json, to: path)
            try AnalysisOutput.write(figure(results, n: samples.n), beside: path)
            let broken = rows.filter { !(($0["problems"] as? [String]) ?? []).isEmpty }.count
            print("analyze bound: \(samples.samples.count) samples (\(broken) break an assumption) -> \(path) and .svg")
            if violations > 0 {
                Console.note("the bound is below the real count in \(violations) (sample, order) cases")
            }
        }
    }

    /// Real count R^(k) against its bound, every (sample, order), on log axes with the line y = x.
    func figure(_ results: [SparsityBound.Sample], n: Int) -> Figure {
        var fig = Figure(width: 640, height: 480, title: "Sparsity bound vs real count of salient AND interactions")
        var axes = Axes(title: "each point: one sample and order k ≥ 1", xLabel: "bound on R^(k)", yLabel: "R^(k)")
        axes.xScale = .log10
        axes.yScale = .log10
        let points = results.flatMap { r in r.orders.filter { $0.k >= 1 && $0.count > 0 && $0.bound != nil } }
        axes.scatter(ScatterSeries("(sample, order)", x: points.map { $0.bound! }, y: points.map { Double($0.count) }))
        let top = max(points.map { $0.bound! }.max() ?? 10, 10)
        axes.line(LineSeries("R = bound", x: [1, top], y: [1, top], dashed: true))
        fig.panels[0] = axes
        return fig
    }
}
