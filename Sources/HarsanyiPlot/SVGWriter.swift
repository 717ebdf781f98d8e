/// A minimal, append-only SVG writer: elements with attributes in the order given (so output is deterministic),
/// every attribute value and text escaped by ``PlotFormat/escape(_:)``.
struct SVGWriter {
    private(set) var text = ""

    /// Attribute name/value pairs, written in this order.
    typealias Attributes = [(String, String)]

    mutating func raw(_ s: String) { text += s }

    mutating func open(_ name: String, _ attributes: Attributes = []) {
        text += "<" + name + Self.attributeText(attributes) + ">\n"
    }

    mutating func close(_ name: String) { text += "</" + name + ">\n" }

    /// A self-closing element.
    mutating func element(_ name: String, _ attributes: Attributes) {
        text += "<" + name + Self.attributeText(attributes) + "/>\n"
    }

    /// The colour of text without one of its own.
    static let textColor = "#222222"

    /// A `<text>` element at (x, y); `anchor` is start, middle or end; `rotate` in degrees about (x, y).
    /// The fill is always written as an attribute (a style sheet rule would override it).
    mutating func label(_ content: String, x: Double, y: Double, cls: String, anchor: String = "start",
                        rotate: Double? = nil, fill: String? = nil) {
        var a: Attributes = [("class", cls), ("x", PlotFormat.c(x)), ("y", PlotFormat.c(y))]
        if anchor != "start" { a.append(("text-anchor", anchor)) }
        if let rotate {
            a.append(("transform", "rotate(\(PlotFormat.c(rotate)) \(PlotFormat.c(x)) \(PlotFormat.c(y)))"))
        }
        a.append(("fill", fill ?? Self.textColor))
        text += "<text" + Self.attributeText(a) + ">" + PlotFormat.escape(content) + "</text>\n"
    }

    /// A straight line; nothing is written when an end is not finite.
    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ extra: Attributes) {
        guard let a = PlotFormat.coordinate(x1), let b = PlotFormat.coordinate(y1),
              let c = PlotFormat.coordinate(x2), let d = PlotFormat.coordinate(y2) else { return }
        element("line", [("x1", a), ("y1", b), ("x2", c), ("y2", d)] + extra)
    }

    /// A rectangle; nothing is written when a coordinate is not finite.
    mutating func rect(_ r: PlotRect, _ extra: Attributes) {
        guard let x = PlotFormat.coordinate(r.x), let y = PlotFormat.coordinate(r.y),
              let w = PlotFormat.coordinate(r.width), let h = PlotFormat.coordinate(r.height) else { return }
        element("rect", [("x", x), ("y", y), ("width", w), ("height", h)] + extra)
    }

    static func attributeText(_ attributes: Attributes) -> String {
        var s = ""
        for (k, v) in attributes { s += " " + k + "=\"" + PlotFormat.escape(v) + "\"" }
        return s
    }
}

/// An axis-aligned rectangle in pixels, y growing downwards.
public struct PlotRect: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }

    func contains(_ px: Double, _ py: Double) -> Bool { px >= x && px <= maxX && py >= y && py <= maxY }

    func intersects(_ o: PlotRect) -> Bool { x <= o.maxX && o.x <= maxX && y <= o.maxY && o.y <= maxY }
}
