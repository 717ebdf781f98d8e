import Foundation
import HarsanyiAnalysis
import HarsanyiCore
import HarsanyiPlot

extension DynamicsStudy {
    /// Up to eight epochs for the per-epoch panels: evenly spaced, always the first, the last and the boundary.
    var shownEpochs: [Int] {
        var picked = Set((0..<min(8, epochs.count)).map { $0 * (epochs.count - 1) / max(1, min(8, epochs.count) - 1) })
        if case .at(let b) = boundary, !picked.contains(b) {
            let nearest = picked.filter { $0 != 0 && $0 != epochs.count - 1 }.min { abs($0 - b) < abs($1 - b) }
            if let nearest { picked.remove(nearest) }
            picked.insert(b)
        }
        return picked.sorted()
    }

    /// The papers' figure: per-epoch I⁺(k) and I⁻(k) bars for eight epochs, then the losses with the gap, the
    /// high-order share and the fitted σ², the boundary marked.
    func figure() -> Figure {
        let shown = shownEpochs
        var fig = Figure(
            width: 1280, height: 880, rows: 3, cols: 4,
            title: "Interactions over training: \(samples) samples, n = \(n) (strength / E|v(N) − v(∅)|)")
        let categories = (0...n).map(String.init)
        for (p, e) in shown.enumerated() {
            var axes = Axes(
                title: "epoch \(epochs[e])\(boundaryEpoch == epochs[e] ? " (boundary)" : "")", xLabel: "order k",
                yLabel: "I⁺(k), I⁻(k)")
            axes.signedBars(
                categories: categories,
                series: [
                    SignedBarSeries("I⁺", stats[e].rows.map(\.both.positive)),
                    SignedBarSeries("I⁻", stats[e].rows.map(\.both.negative)),
                ], overlay: true)
            fig.panels[p] = axes
        }
        let x = epochs.map(Double.init)
        var loss = Axes(title: "losses and gap", xLabel: "epoch", yLabel: "loss")
        if let losses {
            loss.line(LineSeries("train", x: x, y: losses[0], color: Palette.blue))
            loss.line(LineSeries("test", x: x, y: losses[1], color: Palette.vermilion))
            loss.line(LineSeries("test − train", x: x, y: zip(losses[1], losses[0]).map { $0 - $1 }, color: Palette.grey))
            if let g = gapOpening { loss.verticalMarker(at: Double(epochs[g]), label: "gap opens") }
        }
        if let b = boundaryEpoch { loss.verticalMarker(at: Double(b), label: "boundary", color: Palette.bluishGreen) }
        fig.panels[8] = loss
        var share = Axes(title: "share of orders ≥ \(kHigh)", xLabel: "epoch", yLabel: "share of strength")
        share.line(LineSeries("high-order share", x: x, y: highShare, marker: .circle))
        share.line(
            LineSeries(
                "moving median (\(window))", x: x, y: PhaseBoundary.movingMedian(highShare, window: window),
                color: Palette.grey))
        if let b = boundaryEpoch { share.verticalMarker(at: Double(b), label: "boundary", color: Palette.bluishGreen) }
        fig.panels[9] = share
        var sigma = Axes(title: "theory: fitted σ² (reconstruction)", xLabel: "epoch", yLabel: "σ²")
        let positive = fits.map { max($0.sigma2, 1e-5) }
        sigma.yScale = .log10
        sigma.line(LineSeries("σ²", x: x, y: positive, marker: .circle))
        fig.panels[10] = sigma
        var dist = Axes(title: "theory vs real: distance", xLabel: "epoch", yLabel: "total variation")
        dist.line(LineSeries("½Σ|theory − real|", x: x, y: fits.map(\.distance), marker: .square))
        fig.panels[11] = dist
        return fig
    }

    /// Theory against real, per shown epoch: the distributions over orders 1…n.
    func theoryFigure() -> Figure {
        let shown = shownEpochs
        var fig = Figure(
            width: 1280, height: 600, rows: 2, cols: 4,
            title: "Noise-model theory (reconstruction, spec §10.1) vs real: share of strength by order")
        let k = (1...max(1, n)).map(Double.init)
        for (p, e) in shown.enumerated() {
            var axes = Axes(
                title: String(format: "epoch %d: σ² = %.3g, distance %.2f", epochs[e], fits[e].sigma2, fits[e].distance),
                xLabel: "order k", yLabel: "share")
            axes.line(LineSeries("real", x: k, y: Array(distribution[e].dropFirst()), color: Palette.vermilion, marker: .circle))
            axes.line(LineSeries("theory", x: k, y: Array(theory[e].dropFirst()), color: Palette.blue, marker: .square))
            fig.panels[p] = axes
        }
        return fig
    }
}
