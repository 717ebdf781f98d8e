/// Where an ``Axes`` puts its legend.
public enum LegendPosition: Sendable, Equatable {
    /// Inside the plot area, in the corner (top right, top left, bottom right, bottom left, first wins ties)
    /// whose box covers the fewest drawn data points.
    case auto
    case topRight, topLeft, bottomRight, bottomLeft
    /// To the right of the plot area, which shrinks to make room.
    case outsideRight
    case hidden
}

/// Space between a panel's frame and its plot area, in pixels.
public struct Margins: Sendable, Equatable {
    public var top: Double
    public var right: Double
    public var bottom: Double
    public var left: Double

    public init(top: Double, right: Double, bottom: Double, left: Double) {
        self.top = top
        self.right = right
        self.bottom = bottom
        self.left = left
    }
}

/// One panel of a ``Figure``: a plot area with x and y axes (ticks, tick labels, axis labels), a title above,
/// an optional caption beneath, a legend, and the items drawn into it.
///
/// The x axis is categorical (category i at x = i, bands one unit wide) when the axes hold signed bars; the y
/// axis is categorical (row i at y = i, top to bottom) when they hold horizontal bars; an axes holding an image
/// draws only images, without axes. Domains not fixed by ``xDomain``/``yDomain`` are the data's extent widened
/// to whole nice steps (``Scale/niceDomain(lower:upper:target:)``) or to whole decades on a log axis; bars
/// always include 0.
public struct Axes: Sendable {
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    /// Text beneath the panel (under the x label), e.g. the caption of a small multiple.
    public var caption: String?
    /// The colour of the caption (default black).
    public var captionColor: String?
    public var xScale: ScaleKind = .linear
    public var yScale: ScaleKind = .linear
    /// A fixed x domain (numeric x axes only); `nil` fits the data.
    public var xDomain: (lower: Double, upper: Double)?
    /// A fixed y domain (numeric y axes only); `nil` fits the data.
    public var yDomain: (lower: Double, upper: Double)?
    public var legend: LegendPosition = .auto
    /// Light grid lines at the major ticks.
    public var showGrid = true
    /// Fixed margins; `nil` sizes them to the tick labels, axis labels, title and caption.
    public var margins: Margins?
    public private(set) var items: [PlotItem] = []

    public init(title: String? = nil, xLabel: String? = nil, yLabel: String? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Signed bars per category (the papers' order plots: categories "0"…"n"). Several series are drawn side by
    /// side within each category (e.g. AND vs OR, train vs test), or all at full width when `overlay` is true
    /// (e.g. a positive and a negative part of the same quantity).
    public mutating func signedBars(categories: [String], series: [SignedBarSeries], overlay: Bool = false) {
        items.append(.signedBars(categories: categories, series: series, overlay: overlay))
    }

    /// Signed bars for categories 0…values.count − 1 labelled by their index.
    public mutating func signedBars(_ series: [SignedBarSeries], overlay: Bool = false) {
        let n = series.map(\.values.count).max() ?? 0
        signedBars(categories: (0..<n).map(String.init), series: series, overlay: overlay)
    }

    public mutating func line(_ series: LineSeries) { items.append(.line(series)) }

    /// Horizontal signed bars with text labels, top to bottom in the order given.
    public mutating func horizontalBars(_ bars: [LabelledBar]) { items.append(.horizontalBars(bars)) }

    public mutating func scatter(_ series: ScatterSeries) { items.append(.scatter(series)) }

    /// A labelled vertical line at x = `value` (e.g. where phase 2 starts).
    public mutating func verticalMarker(at value: Double, label: String, color: String = Palette.grey) {
        items.append(.marker(MarkerLine(.vertical, at: value, label: label, color: color)))
    }

    /// A labelled horizontal line at y = `value` (e.g. a threshold).
    public mutating func horizontalMarker(at value: Double, label: String, color: String = Palette.grey) {
        items.append(.marker(MarkerLine(.horizontal, at: value, label: label, color: color)))
    }

    public mutating func image(_ item: ImageItem) { items.append(.image(item)) }

    // MARK: - Derived facts

    /// Distance between caption lines, px.
    static let captionLineHeight = 15.0
    /// Line vertices closer than this (px, in both x and y) to the previous vertex are not written.
    static let lineResolution = 0.25

    /// The caption broken at spaces into lines that fit `width` − 8 px (a word longer than that gets a line
    /// of its own).
    public func captionLines(width: Double) -> [String] {
        guard let caption, !caption.isEmpty else { return [] }
        let room = width - 8
        var lines: [String] = []
        var current = ""
        for word in caption.split(separator: " ") {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if current.isEmpty || PlotFormat.textWidth(candidate, fontSize: FontSize.label) <= room {
                current = candidate
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    enum Mode { case xy, horizontalBars, image }

    var mode: Mode {
        if items.contains(where: { if case .image = $0 { true } else { false } }) { return .image }
        if items.contains(where: { if case .horizontalBars = $0 { true } else { false } }) { return .horizontalBars }
        return .xy
    }

    /// The categories of the x axis when the axes hold signed bars (the longest list given).
    var categories: [String]? {
        var best: [String]?
        for case .signedBars(let c, let series, _) in items {
            let n = max(c.count, series.map(\.values.count).max() ?? 0)
            let full = c + (c.count..<n).map(String.init)
            if full.count > (best?.count ?? -1) { best = full }
        }
        return best
    }

    /// The horizontal bars, top to bottom (all lists given, concatenated).
    var rows: [LabelledBar] {
        var out: [LabelledBar] = []
        for case .horizontalBars(let bars) in items { out += bars }
        return out
    }

    /// The colour of each line/scatter series without one of its own: ``Palette/series`` in turn.
    func seriesColors() -> [String] {
        var out: [String] = []
        var k = 0
        for item in items {
            switch item {
            case .line(let s):
                out.append(s.color ?? Palette.series(k))
                k += 1
            case .scatter(let s):
                out.append(s.color ?? Palette.series(k))
                k += 1
            default: break
            }
        }
        return out
    }
}
