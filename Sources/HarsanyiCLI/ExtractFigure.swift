import Foundation
import HarsanyiCore
import HarsanyiONNX
import HarsanyiPlot

/// The figure `extract` writes beside its result (`figure.svg` in the result folder): for grid players on an image
/// input, the sample with its player grid and the top AND and OR primitives as highlighted cell sets with their
/// values (the first channel is drawn, in grey); for any other players, the top primitives as labelled signed bars.
enum ExtractFigure {
    /// How many primitives the figure shows.
    static let shown = 9

    /// `labels`: the players' names (words), used in the bars' captions instead of their numbers.
    static func make(
        _ r: InteractionResult, _ a: InteractionAnalysis, sample: Tensor, players: String, maskAt: String?,
        labels: [String]? = nil
    ) -> Figure {
        func names(_ p: Primitive) -> String {
            p.players.map { k in labels.flatMap { k < $0.count ? $0[k] : nil } ?? String(k) }.joined(separator: ", ")
        }
        let top = Array(a.primitives.prefix(shown))
        let title = String(
            format: "top %d of %d salient primitives (v(N) − v(∅) = %.3g)", top.count, a.primitives.count,
            r.v[r.v.count - 1] - r.v[0])
        func caption(_ p: Primitive) -> String {
            "\(p.type) {\(p.players.map(String.init).joined(separator: ", "))}: \(PlotFormat.signed(p.value))"
        }
        if maskAt == nil, case .grid(let rows, let cols)? = try? PlayerSpec.parse(players), sample.shape.count >= 3 {
            let h = sample.shape[sample.shape.count - 2]
            let w = sample.shape[sample.shape.count - 1]
            let pixels = sample.floats.prefix(h * w).map(Double.init)
            let sets = top.map {
                HighlightedSet(
                    cells: $0.players, color: $0.value >= 0 ? Palette.positive : Palette.negative, caption: caption($0))
            }
            return Figure.playerSets(
                image: GrayImage(rows: h, cols: w, pixels: Array(pixels)), grid: PlayerGrid(rows: rows, cols: cols),
                sets: sets, title: title)
        }
        var fig = Figure(width: 720, height: 80 + 34 * Double(max(top.count, 1)), title: title)
        var axes = Axes(title: "players: \(players)", xLabel: "interaction I(S)", yLabel: "")
        axes.horizontalBars(
            top.map {
                LabelledBar(
                    "\($0.type) {\(names($0))}", $0.value,
                    color: $0.value >= 0 ? Palette.positive : Palette.negative)
            })
        fig.panels[0] = axes
        return fig
    }
}
