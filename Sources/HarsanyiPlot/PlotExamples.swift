import Foundation

/// One figure of each kind on made-up data shaped like the papers' figures, to look at and to test with.
public enum PlotExamples {
    /// (file name, figure) for every chart kind.
    public static func figures() -> [(name: String, figure: Figure)] {
        [("order-bars", orderBars()), ("jaccard-lines", jaccardLines()), ("sparsity-log", sparsityCurve()),
         ("top-primitives", topPrimitives()), ("player-sets", playerSets()), ("bound-scatter", boundScatter())]
    }

    /// Writes every example as `<dir>/<name>.svg` and returns the paths.
    @discardableResult
    public static func writeAll(to dir: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try figures().map { item in
            let path = dir + "/" + item.name + ".svg"
            try item.figure.write(to: path)
            return path
        }
    }

    /// Interaction strength by order, AND and OR side by side (red up, blue down), at two epochs, with the
    /// phase boundary marked on a line panel.
    static func orderBars() -> Figure {
        var fig = Figure(width: 900, height: 340, rows: 1, cols: 3, title: "Interaction strength by order")
        let orders = 0...10
        for (j, epoch) in [0, 40].enumerated() {
            let s = Double(epoch) / 40
            let pos = orders.map { k in 3 * exp(-pow(Double(k) - 5 + 3 * s, 2) / 4) * (1 - 0.6 * s) }
            let neg = orders.map { k in -2.2 * exp(-pow(Double(k) - 5.5 + 3 * s, 2) / 5) * (1 - 0.5 * s) }
            var a = Axes(title: "epoch \(epoch)", xLabel: "order k", yLabel: "I⁽ᵏ⁾ (sum over S, |S| = k)")
            a.signedBars([SignedBarSeries("AND", zip(pos, neg).map { $0 * 0.6 + $1 * 0.5 }),
                          SignedBarSeries("OR", zip(pos, neg).map { $0 * 0.4 + $1 * 0.6 })])
            fig[0, j] = a
        }
        var loss = Axes(title: "loss", xLabel: "epoch", yLabel: "loss")
        let epochs = (0...40).map(Double.init)
        loss.line(LineSeries("train", x: epochs, y: epochs.map { 2.3 * exp(-$0 / 8) + 0.05 }))
        loss.line(LineSeries("test", x: epochs, y: epochs.map { 2.3 * exp(-$0 / 8) + 0.1 + 0.004 * max($0 - 14, 0) }))
        loss.verticalMarker(at: 14, label: "phase 2")
        fig[0, 2] = loss
        return fig
    }

    /// Train–test Jaccard similarity per order with a shuffled-label control band.
    static func jaccardLines() -> Figure {
        var fig = Figure(width: 520, height: 360)
        var a = Axes(title: "Train vs test interactions (generalised Jaccard)", xLabel: "order k", yLabel: "similarity")
        let k = (1...10).map(Double.init)
        a.line(LineSeries("trained", x: k, y: k.map { 0.92 - 0.055 * $0 }))
        let control = k.map { 0.35 - 0.02 * $0 }
        a.line(LineSeries("shuffled labels (mean ± sd)", x: k, y: control, color: Palette.grey, dashed: true,
                          band: Band(mean: control, sd: k.map { 0.03 + 0.004 * $0 })))
        a.yDomain = (0, 1)
        fig.axes = a
        return fig
    }

    /// |I(S)| sorted in descending order, log y, 4096 points per curve (one path each).
    static func sparsityCurve() -> Figure {
        var fig = Figure(width: 520, height: 360)
        var a = Axes(title: "Sparsity: sorted |I(S)|", xLabel: "rank", yLabel: "|I(S)|")
        a.yScale = .log10
        let n = 4096
        a.line(LineSeries("AND", y: (0..<n).map { 3 * exp(-Double($0) / 90) + 1e-5 }))
        a.line(LineSeries("OR", y: (0..<n).map { 1.5 * exp(-Double($0) / 40) + 2e-6 }))
        a.horizontalMarker(at: 0.05 * 3, label: "τ = 0.05·max|I|")
        fig.axes = a
        return fig
    }

    /// The strongest primitives as labelled signed bars.
    static func topPrimitives() -> Figure {
        var fig = Figure(width: 560, height: 320)
        var a = Axes(title: "Top primitives", xLabel: "interaction I(S)")
        a.horizontalBars([
            LabelledBar("AND {x1, x3}", 0.42), LabelledBar("OR {x2}", -0.31), LabelledBar("AND {x1, x2, x5}", 0.27),
            LabelledBar("OR {x4, x6}", 0.19), LabelledBar("AND {x7}", -0.12), LabelledBar("AND {x3, x8}", 0.05),
        ])
        fig.axes = a
        return fig
    }

    /// A digit-like 16 × 12 image with a 4 × 3 grid and four primitives.
    static func playerSets() -> Figure {
        let h = 16, w = 12
        var px = [Double](repeating: 0, count: h * w)
        for y in 0..<h {
            for x in 0..<w {
                let dx = (Double(x) - 5.5) / 4, dy = (Double(y) - 7.5) / 6
                let r = (dx * dx + dy * dy).squareRoot()
                px[y * w + x] = max(0, 1 - abs(r - 0.8) * 4) * 16
            }
        }
        let sets = [
            HighlightedSet(cells: [3, 7], color: Palette.positive, caption: "AND {3, 7}: +1.25"),
            HighlightedSet(cells: [1, 4, 10], color: Palette.positive, caption: "AND {1, 4, 10}: +0.61"),
            HighlightedSet(cells: [5], color: Palette.negative, caption: "OR {5}: −0.48"),
            HighlightedSet(cells: [0, 2, 6, 8, 9, 11], color: Palette.negative,
                           caption: "OR {0, 2, 6, 8, 9, 11}: −0.20"),
        ]
        return Figure.playerSets(image: GrayImage(rows: h, cols: w, pixels: px), grid: PlayerGrid(rows: 4, cols: 3),
                                 sets: sets, columns: 5, title: "Salient primitives of one sample")
    }

    /// Bound vs real count of salient interactions per order, with y = x.
    static func boundScatter() -> Figure {
        var fig = Figure(width: 520, height: 400)
        var a = Axes(title: "Sparsity bound vs real count", xLabel: "real count R⁽ᵏ⁾", yLabel: "bound")
        a.xScale = .log10
        a.yScale = .log10
        let real = [3.0, 12, 40, 95, 120, 80, 30, 8]
        let bound = real.enumerated().map { $0.element * (1.5 + Double($0.offset) * 0.7) }
        a.line(LineSeries("y = x", x: [1, 1000], y: [1, 1000], color: Palette.grey, marker: MarkerShape.hidden,
                          dashed: true, lineWidth: 1))
        a.scatter(ScatterSeries("order k", x: real, y: bound, labels: (1...real.count).map { "k=\($0)" }))
        fig.axes = a
        return fig
    }
}
