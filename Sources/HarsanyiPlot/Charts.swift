/// The data kinds an ``Axes`` can draw. Each is plain data; ``Axes`` lays them out and renders them.
/// Non-finite values (NaN, ±inf), and values ≤ 0 on a log axis, are never drawn: a line breaks there, a bar
/// or point is left out.

/// One series of signed bars over the categories of an order plot (e.g. the strength of order-k interactions).
/// Positive values rise from zero in `positiveColor`, negative values hang below it in `negativeColor`.
public struct SignedBarSeries: Sendable {
    public var name: String
    public var values: [Double]
    /// `nil`: ``Palette/signedPair(_:)`` of the series' index (vermilion/blue for the first).
    public var positiveColor: String?
    public var negativeColor: String?

    public init(_ name: String, _ values: [Double], positiveColor: String? = nil, negativeColor: String? = nil) {
        self.name = name
        self.values = values
        self.positiveColor = positiveColor
        self.negativeColor = negativeColor
    }
}

/// A shaded band around a line, e.g. min…max over runs or mean ± sd: the region between `lower` and `upper`,
/// index by index with the line's x.
public struct Band: Sendable {
    public var lower: [Double]
    public var upper: [Double]
    public var opacity: Double

    public init(lower: [Double], upper: [Double], opacity: Double = 0.18) {
        self.lower = lower
        self.upper = upper
        self.opacity = opacity
    }

    /// mean ± k·sd.
    public init(mean: [Double], sd: [Double], k: Double = 1, opacity: Double = 0.18) {
        let n = min(mean.count, sd.count)
        self.init(lower: (0..<n).map { mean[$0] - k * sd[$0] }, upper: (0..<n).map { mean[$0] + k * sd[$0] },
                  opacity: opacity)
    }
}

/// The shape drawn at each data point.
public enum MarkerShape: Sendable, Equatable {
    /// `hidden`: no marker (a line only).
    case hidden, circle, square, diamond
}

/// A line through (x[i], y[i]) with optional markers and band. Drawn as one `<path>` (one element however many
/// points), so sorted-|I| curves with thousands of points stay compact.
public struct LineSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// `nil`: the next ``Palette/series`` colour.
    public var color: String?
    /// `nil`: circles when there are at most ``LineSeries/autoMarkerLimit`` points, none beyond.
    public var marker: MarkerShape?
    public var dashed: Bool
    public var lineWidth: Double
    public var band: Band?

    /// Above this many points a line gets no markers unless asked for.
    public static let autoMarkerLimit = 60

    public init(_ name: String, x: [Double], y: [Double], color: String? = nil, marker: MarkerShape? = nil,
                dashed: Bool = false, lineWidth: Double = 1.8, band: Band? = nil) {
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.marker = marker
        self.dashed = dashed
        self.lineWidth = lineWidth
        self.band = band
    }

    /// y against its index 1…n (e.g. |I| sorted in descending order against rank).
    public init(_ name: String, y: [Double], color: String? = nil, marker: MarkerShape? = nil, band: Band? = nil) {
        self.init(name, x: (0..<y.count).map { Double($0 + 1) }, y: y, color: color, marker: marker, band: band)
    }
}

/// One row of a horizontal bar chart: a text label on the left and a signed bar with its value at the end,
/// e.g. "AND {x1, x3}" with +0.42.
public struct LabelledBar: Sendable {
    public var label: String
    public var value: Double
    /// `nil`: ``Palette/positive`` or ``Palette/negative`` by sign.
    public var color: String?
    /// `nil`: ``PlotFormat/signed(_:)`` of the value.
    public var valueText: String?

    public init(_ label: String, _ value: Double, color: String? = nil, valueText: String? = nil) {
        self.label = label
        self.value = value
        self.color = color
        self.valueText = valueText
    }
}

/// Points (x[i], y[i]), each a `<circle>` (or square/diamond), with optional text labels beside them.
public struct ScatterSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public var labels: [String]?
    public var color: String?
    public var marker: MarkerShape
    public var radius: Double

    public init(_ name: String, x: [Double], y: [Double], labels: [String]? = nil, color: String? = nil,
                marker: MarkerShape = .circle, radius: Double = 3.5) {
        self.name = name
        self.x = x
        self.y = y
        self.labels = labels
        self.color = color
        self.marker = marker
        self.radius = radius
    }
}

/// A labelled reference line across the plot: vertical at x = value (e.g. a phase boundary) or horizontal at
/// y = value (e.g. a threshold τ).
public struct MarkerLine: Sendable {
    public enum Orientation: Sendable { case vertical, horizontal }
    public var orientation: Orientation
    public var value: Double
    public var label: String
    public var color: String
    public var dashed: Bool

    public init(_ orientation: Orientation, at value: Double, label: String, color: String = Palette.grey,
                dashed: Bool = true) {
        self.orientation = orientation
        self.value = value
        self.label = label
        self.color = color
        self.dashed = dashed
    }
}

/// Everything an ``Axes`` holds, in drawing order.
public enum PlotItem: Sendable {
    case signedBars(categories: [String], series: [SignedBarSeries], overlay: Bool)
    case line(LineSeries)
    case horizontalBars([LabelledBar])
    case scatter(ScatterSeries)
    case marker(MarkerLine)
    case image(ImageItem)
}
