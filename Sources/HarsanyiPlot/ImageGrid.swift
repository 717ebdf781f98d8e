import Foundation

/// A grayscale image, row-major, rows × cols values.
public struct GrayImage: Sendable {
    public var rows: Int
    public var cols: Int
    public var pixels: [Double]
    /// The values drawn black and white; `nil`: the finite minimum and maximum.
    public var range: (lower: Double, upper: Double)?
    /// Draw high values dark (ink on paper) instead of light.
    public var inverted: Bool

    public init(rows: Int, cols: Int, pixels: [Double], range: (lower: Double, upper: Double)? = nil,
                inverted: Bool = false) {
        precondition(rows >= 0 && cols >= 0 && pixels.count == rows * cols, "pixels must hold rows × cols values")
        self.rows = rows
        self.cols = cols
        self.pixels = pixels
        self.range = range
        self.inverted = inverted
    }

    public init(_ matrix: [[Double]], range: (lower: Double, upper: Double)? = nil, inverted: Bool = false) {
        let cols = matrix.first?.count ?? 0
        self.init(rows: matrix.count, cols: cols, pixels: matrix.flatMap { $0.count == cols ? $0 : [] },
                  range: range, inverted: inverted)
    }

    /// The grey level 0…255 of value v: 255·(v − lo)/(hi − lo), clamped, reversed when inverted; `nil` for NaN/inf.
    func level(_ v: Double) -> Int? {
        guard v.isFinite else { return nil }
        let finite = pixels.filter(\.isFinite)
        let lo = range?.lower ?? finite.min() ?? 0, hi = range?.upper ?? finite.max() ?? 1
        let t = hi > lo ? min(max((v - lo) / (hi - lo), 0), 1) : 0.5
        let g = Int((t * 255).rounded())
        return inverted ? 255 - g : g
    }
}

/// The players of an image: an R × C grid of cells numbered row-major (cell p covers rows ⌊r·H/R⌋ ..< ⌊(r+1)·H/R⌋
/// and columns ⌊c·W/C⌋ ..< ⌊(c+1)·W/C⌋ of an H × W image, r = p / C, c = p mod C), as `--players grid:RxC` does.
public struct PlayerGrid: Sendable, Equatable {
    public var rows: Int
    public var cols: Int

    public init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
    }

    /// Cell p's pixel rows and columns in an H × W image.
    public func cell(_ p: Int, height: Int, width: Int) -> (rows: Range<Int>, cols: Range<Int>) {
        let r = p / cols, c = p % cols
        return (r * height / rows ..< (r + 1) * height / rows, c * width / cols ..< (c + 1) * width / cols)
    }
}

/// A set of player cells to highlight, e.g. the cells of one AND or OR primitive, with its colour and caption
/// (e.g. "AND {3, 7}: +1.25").
public struct HighlightedSet: Sendable {
    public var cells: [Int]
    public var color: String
    public var caption: String

    public init(cells: [Int], color: String, caption: String) {
        self.cells = cells
        self.color = color
        self.caption = caption
    }
}

/// An image drawn into an ``Axes`` (which then shows no axes): its pixels as rectangles (runs of equal grey
/// merged along each row), the player grid, and optionally one highlighted set: cells outside it are dimmed and
/// its cells outlined in the set's colour.
public struct ImageItem: Sendable {
    public var image: GrayImage
    public var grid: PlayerGrid?
    public var highlight: HighlightedSet?
    /// Write each cell's index in its top-left corner.
    public var showCellIndices: Bool

    public init(image: GrayImage, grid: PlayerGrid? = nil, highlight: HighlightedSet? = nil,
                showCellIndices: Bool = false) {
        self.image = image
        self.grid = grid
        self.highlight = highlight
        self.showCellIndices = showCellIndices
    }
}

extension Axes {
    func renderImages(into w: inout SVGWriter, layout lay: AxesLayout) {
        for case .image(let item) in items { renderImage(item, into: &w, box: lay.plotArea) }
    }

    private func renderImage(_ item: ImageItem, into w: inout SVGWriter, box: PlotRect) {
        let img = item.image
        guard img.rows > 0, img.cols > 0 else { return }
        let s = box.width / Double(img.cols)
        w.open("g", [("class", "image"), ("shape-rendering", "crispEdges")])
        for r in 0..<img.rows {
            var c = 0
            while c < img.cols {
                guard let g = img.level(img.pixels[r * img.cols + c]) else { c += 1; continue }
                var e = c + 1
                while e < img.cols, img.level(img.pixels[r * img.cols + e]) == g { e += 1 }
                let hex = String(format: "#%02X%02X%02X", g, g, g)
                let run = PlotRect(x: box.x + Double(c) * s, y: box.y + Double(r) * s,
                                   width: Double(e - c) * s, height: s)
                w.rect(run, [("fill", hex)])
                c = e
            }
        }
        w.close("g")
        guard let grid = item.grid, grid.rows > 0, grid.cols > 0 else { return }
        func cellRect(_ p: Int) -> PlotRect {
            let cell = grid.cell(p, height: img.rows, width: img.cols)
            return PlotRect(x: box.x + Double(cell.cols.lowerBound) * s, y: box.y + Double(cell.rows.lowerBound) * s,
                            width: Double(cell.cols.count) * s, height: Double(cell.rows.count) * s)
        }
        let count = grid.rows * grid.cols
        if let h = item.highlight {
            let chosen = Set(h.cells)
            for p in 0..<count where !chosen.contains(p) {
                w.rect(cellRect(p), [("class", "dim"), ("fill", "#FFFFFF"), ("fill-opacity", "0.7")])
            }
        }
        let gridLine: SVGWriter.Attributes = [("class", "grid-line"), ("stroke", Palette.orange),
                                              ("stroke-width", "1"), ("stroke-opacity", "0.8")]
        for r in 0...grid.rows {
            let y = box.y + Double(r * img.rows / grid.rows) * s
            w.line(box.x, y, box.maxX, y, gridLine)
        }
        for c in 0...grid.cols {
            let x = box.x + Double(c * img.cols / grid.cols) * s
            w.line(x, box.y, x, box.maxY, gridLine)
        }
        if let h = item.highlight {
            for p in h.cells where p >= 0 && p < count {
                w.rect(cellRect(p), [("class", "highlight"), ("fill", "none"), ("stroke", h.color),
                                     ("stroke-width", "2.5")])
            }
        }
        if item.showCellIndices {
            for p in 0..<count {
                let r = cellRect(p)
                w.raw("<text class=\"cell-index\" x=\"\(PlotFormat.c(r.x + 2))\" y=\"\(PlotFormat.c(r.y + 10))\" "
                      + "fill=\"#FFFFFF\" stroke=\"#000000\" stroke-width=\"2\" paint-order=\"stroke\">\(p)</text>\n")
            }
        }
    }
}

extension Figure {
    /// Small multiples of player sets: first the sample with its grid and cell indices, then one small image per
    /// set with its cells highlighted and its caption beneath, `columns` panels to a row.
    public static func playerSets(image: GrayImage, grid: PlayerGrid, sets: [HighlightedSet], columns: Int = 5,
                                  panelWidth: Double = 160, panelHeight: Double = 180, title: String? = nil,
                                  sampleCaption: String = "sample") -> Figure {
        let count = sets.count + 1
        let cols = max(1, min(columns, count))
        let rows = (count + cols - 1) / cols
        var fig = Figure(width: panelWidth * Double(cols), height: panelHeight * Double(rows) + (title == nil ? 0 : 30),
                         rows: rows, cols: cols, title: title)
        // The same margins in every panel (room for the longest caption), so all images have the same size.
        let lines = max(sets.map { set in
            var a = Axes()
            a.caption = set.caption
            return a.captionLines(width: panelWidth).count
        }.max() ?? 1, 1)
        let margins = Margins(top: 6, right: 6, bottom: 8 + Axes.captionLineHeight * Double(lines), left: 6)
        var sample = Axes()
        sample.margins = margins
        sample.image(ImageItem(image: image, grid: grid, showCellIndices: true))
        sample.caption = sampleCaption + " (grid \(grid.rows)×\(grid.cols))"
        fig.panels[0] = sample
        for (i, set) in sets.enumerated() {
            var a = Axes()
            a.image(ImageItem(image: image, grid: grid, highlight: set))
            a.caption = set.caption
            a.captionColor = set.color
            a.margins = margins
            fig.panels[i + 1] = a
        }
        return fig
    }
}
