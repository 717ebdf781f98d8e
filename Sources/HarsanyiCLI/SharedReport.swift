import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot
import HarsanyiSolvers

/// The JSON and figure of `analyze shared`.
enum SharedReport {
    static func players(_ set: Int) -> [Int] { (0..<Int.bitWidth).filter { set >> $0 & 1 == 1 } }

    static func json(
        _ metrics: SharedInteractions, samples: [SharedInteractions.Sample], results: [JointDecomposition.Result],
        study: SharedStudy, settings: JointDecomposition.Settings, list: Int
    ) -> [String: Any] {
        let count = 1 << study.n
        let statuses = Dictionary(grouping: results.map(\.status)) { $0 }.mapValues(\.count)
        let seconds = results.map(\.seconds).reduce(0, +)
        return [
            "analysis": "shared", "runs": study.runs, "n": study.n, "samples": samples.count,
            "sample_indices": samples.map(\.index), "left_out": study.leftOut,
            "settings": [
                "alpha": settings.alpha, "pthres": settings.pthres, "qthres": settings.qthres,
                "optimizer": settings.optimizer.rawValue, "iterations": settings.iterations,
                "p_bound": study.pBound,
            ] as [String: Any],
            "solver": [
                "solvers": Array(Set(results.map(\.solver))).sorted(), "statuses": statuses,
                "total_seconds": seconds, "mean_seconds": seconds / Double(max(1, results.count)),
                "loss": results.map(\.loss),
            ] as [String: Any],
            "threshold": ["tau": metrics.tau, "reference": "tau * E|v_i(N) - v_i(empty)|", "values": metrics.thresholds]
                as [String: Any],
            "overlap": [
                "r": metrics.ratios, "k": metrics.ratios.map { Int($0 * Double(count)) },
                "joint_and": metrics.jointAnd, "joint_or": metrics.jointOr, "single_and": metrics.singleAnd,
                "single_or": metrics.singleOr,
            ] as [String: Any],
            "orders": metrics.orders.map { r in
                [
                    "order": r.order, "shared_count": r.sharedCount, "shared_positive": r.sharedPositive,
                    "shared_negative": r.sharedNegative, "distinctive_count": r.distinctiveCount,
                    "distinctive_positive": r.distinctivePositive, "distinctive_negative": r.distinctiveNegative,
                ] as [String: Any]
            },
            "shared_primitives": metrics.sharedList(samples, limit: list).map {
                ["op": $0.op, "players": players($0.set), "samples": $0.count, "mean_per_model": $0.mean]
                    as [String: Any]
            },
            "distinctive_primitives": (0..<metrics.models).map { i in
                [
                    "model": study.runs[i],
                    "primitives": metrics.distinctiveList(samples, model: i, limit: list).map {
                        ["op": $0.op, "players": players($0.set), "samples": $0.count, "mean": $0.mean]
                            as [String: Any]
                    },
                ] as [String: Any]
            },
        ]
    }

    /// Chen et al. Fig. 3–5 in one: s_and and s_or against k (joint, single); per model the shared and distinctive
    /// strength per order; with --test, the train-test Jaccard of shared and distinctive primitives.
    static func figure(
        _ metrics: SharedInteractions, study: SharedStudy, generalization: [(shared: Double?, distinctive: Double?)]?
    ) -> Figure {
        let m = metrics.models
        let panels = 1 + m + (generalization == nil ? 0 : 1)
        let cols = min(3, panels)
        let rows = (panels + cols - 1) / cols
        var fig = Figure(
            width: 360 * Double(cols), height: 330 * Double(rows), rows: rows, cols: cols,
            title: "Interactions shared by \(m) models (n = \(metrics.n))")
        let k = metrics.ratios.map { $0 * Double(1 << metrics.n) }
        var overlap = Axes(title: "overlap of the top-k", xLabel: "k", yLabel: "s_and, s_or")
        overlap.line(LineSeries("s_and joint", x: k, y: metrics.jointAnd, color: Palette.vermilion, marker: .circle))
        overlap.line(LineSeries("s_or joint", x: k, y: metrics.jointOr, color: Palette.blue, marker: .circle))
        overlap.line(LineSeries("s_and single", x: k, y: metrics.singleAnd, color: Palette.orange, marker: .square))
        overlap.line(LineSeries("s_or single", x: k, y: metrics.singleOr, color: Palette.grey, marker: .square))
        fig.panels[0] = overlap
        let categories = metrics.orders.map { String($0.order) }
        for i in 0..<m {
            var axes = Axes(
                title: "model \(i + 1): \(URL(fileURLWithPath: study.runs[i]).lastPathComponent)",
                xLabel: "order k", yLabel: "strength per sample")
            axes.signedBars(
                categories: categories,
                series: [
                    SignedBarSeries(
                        "shared", metrics.orders.map { $0.sharedPositive[i] + $0.sharedNegative[i] },
                        positiveColor: Palette.vermilion, negativeColor: Palette.blue),
                    SignedBarSeries(
                        "distinctive", metrics.orders.map { $0.distinctivePositive[i] + $0.distinctiveNegative[i] },
                        positiveColor: Palette.orange, negativeColor: Palette.grey),
                ])
            fig.panels[1 + i] = axes
        }
        if let generalization {
            var bars = Axes(title: "train vs test Jaccard (class means)", xLabel: "model", yLabel: "J")
            bars.signedBars(
                categories: (1...m).map { "model \($0)" },
                series: [
                    SignedBarSeries("shared", generalization.map { $0.shared ?? .nan }, positiveColor: Palette.vermilion),
                    SignedBarSeries(
                        "distinctive", generalization.map { $0.distinctive ?? .nan }, positiveColor: Palette.orange),
                ])
            fig.panels[1 + m] = bars
        }
        return fig
    }
}
