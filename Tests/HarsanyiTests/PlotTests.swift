import Foundation
import HarsanyiPlot
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// One parsed SVG element: its name, attributes and direct text.
struct SVGNode {
    var name: String
    var attributes: [String: String]
    var text: String

    func number(_ key: String) -> Double? { attributes[key].flatMap(Double.init) }
    var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
}

/// Parses SVG text with XMLParser; records the first error (a document that is not well-formed XML).
final class SVGCollector: NSObject, XMLParserDelegate {
    var nodes: [SVGNode] = []
    var stack: [Int] = []
    var error: String?

    static func parse(_ svg: String) -> SVGCollector {
        let c = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = c
        if !parser.parse() { c.error = c.error ?? parser.parserError.map { "\($0)" } ?? "parse failed" }
        return c
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        stack.append(nodes.count)
        nodes.append(SVGNode(name: name, attributes: attributes, text: ""))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = stack.last { nodes[i].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = "\(parseError)" }

    func elements(_ name: String, class cls: String? = nil) -> [SVGNode] {
        nodes.filter { $0.name == name && (cls == nil || $0.classes.contains(cls!)) }
    }

    func texts(class cls: String) -> [String] { elements("text", class: cls).map(\.text) }
}

@Suite("SVG plotting")
struct PlotTests {
    /// Rendered coordinates are exact up to the two-decimal formatting.
    static let tol = PlotFormat.coordinateTolerance

    /// Parses and fails the test when the SVG is not well-formed.
    static func parsed(_ fig: Figure, _ note: String = "") -> SVGCollector {
        let c = SVGCollector.parse(fig.render())
        #expect(c.error == nil, "\(note): \(c.error ?? "")")
        #expect(c.nodes.first?.name == "svg")
        return c
    }

    /// A one-panel figure whose plot area is exactly 200 × 200 px at (50, 30).
    static func fixedFigure(_ axes: Axes) -> Figure {
        var a = axes
        a.margins = Margins(top: 30, right: 20, bottom: 40, left: 50)
        var fig = Figure(width: 270, height: 270)
        fig.axes = a
        return fig
    }

    @Test("every example figure is well-formed XML, has text, and is written to <tmp>/plot-examples")
    func examplesWellFormed() throws {
        for (name, fig) in PlotExamples.figures() {
            let c = Self.parsed(fig, name)
            #expect(!c.elements("text").isEmpty, "\(name)")
            let svg = fig.render().lowercased()
            #expect(!svg.contains("nan") && !svg.contains("inf"), "\(name)")
        }
        // Left in place to look at: /tmp/plot-examples/*.svg (where TMPDIR is unset).
        let dir = NSTemporaryDirectory() + "plot-examples"
        let paths = try PlotExamples.writeAll(to: dir)
        #expect(paths.count == PlotExamples.figures().count)
        for p in paths { #expect(FileManager.default.fileExists(atPath: p)) }
    }

    @Test("titles, axis labels, tick labels and legend names are drawn")
    func labels() {
        var a = Axes(title: "Panel title", xLabel: "order k", yLabel: "strength")
        a.line(LineSeries("train", x: [0, 1, 2], y: [0, 0.2, 0.37]))
        a.line(LineSeries("test", x: [0, 1, 2], y: [0.1, 0.1, 0.3]))
        var fig = Self.fixedFigure(a)
        fig.title = "Figure title"
        fig.height += 30  // the title band: the plot area stays 200 px high
        let c = Self.parsed(fig)
        #expect(c.texts(class: "figure-title") == ["Figure title"])
        #expect(c.texts(class: "title") == ["Panel title"])
        #expect(c.texts(class: "axis-label").sorted() == ["order k", "strength"])
        #expect(c.texts(class: "legend-text") == ["train", "test"])
        let lay = fig.layout(ofPanel: 0)
        #expect(lay.yTicks.map { ($0 * 10).rounded() / 10 } == [0, 0.1, 0.2, 0.3, 0.4])
        #expect(c.elements("text", class: "y").filter { $0.classes.contains("tick") }.map(\.text)
                == ["0", "0.1", "0.2", "0.3", "0.4"])
        #expect(c.elements("text", class: "x").filter { $0.classes.contains("tick") }.map(\.text) == ["0", "1", "2"])
    }

    @Test("a bar of 2 on a 0…4 axis of 200 px is 100 px tall from the zero line; negative bars hang below it")
    func barGeometry() throws {
        var a = Axes()
        a.yDomain = (0, 4)
        a.signedBars([SignedBarSeries("", [2])])
        let c = Self.parsed(Self.fixedFigure(a))
        let bar = try #require(c.elements("rect", class: "bar").first)
        #expect(bar.classes.contains("pos"))
        #expect(abs(bar.number("height")! - 100) <= Self.tol)
        #expect(abs(bar.number("y")! + bar.number("height")! - 230) <= Self.tol)  // the zero line is the bottom
        let zero = try #require(c.elements("line", class: "zero-line").first)
        #expect(abs(zero.number("y1")! - 230) <= Self.tol)

        var b = Axes()
        b.yDomain = (-4, 4)
        b.signedBars([SignedBarSeries("", [2, -1])])
        let d = Self.parsed(Self.fixedFigure(b))
        let zeroY = try #require(d.elements("line", class: "zero-line").first?.number("y1"))
        #expect(abs(zeroY - 130) <= Self.tol)
        let pos = try #require(d.elements("rect", class: "pos").first)
        let neg = try #require(d.elements("rect", class: "neg").first)
        #expect(abs(pos.number("y")! + pos.number("height")! - zeroY) <= Self.tol)
        #expect(abs(pos.number("height")! - 50) <= Self.tol)
        #expect(abs(neg.number("y")! - zeroY) <= Self.tol)  // starts at the zero line, goes down
        #expect(abs(neg.number("height")! - 25) <= Self.tol)
        #expect(neg.attributes["fill"] == Palette.negative && pos.attributes["fill"] == Palette.positive)
        // Categories 0 and 1 are centred at x(0) and x(1), bands 100 px wide, bars 80 px.
        #expect(abs(pos.number("x")! - (50 + 10)) <= Self.tol && abs(neg.number("x")! - (150 + 10)) <= Self.tol)
        #expect(abs(pos.number("width")! - 80) <= Self.tol)
    }

    @Test("grouped series sit side by side within a category")
    func groupedBars() {
        var a = Axes()
        a.yDomain = (-1, 1)
        a.signedBars([SignedBarSeries("AND", [0.5]), SignedBarSeries("OR", [-0.5])])
        let c = Self.parsed(Self.fixedFigure(a))
        let bars = c.elements("rect", class: "bar")
        #expect(bars.count == 2)
        #expect(abs(bars[0].number("x")! + bars[0].number("width")! - bars[1].number("x")!) <= Self.tol)
        #expect(abs(bars[0].number("width")! - 80) <= Self.tol)  // 200 px band, 80 % of it split in two
        #expect(c.texts(class: "legend-text") == ["AND", "OR"])
    }

    @Test("scatter points land at the scale's mapping; a vertical marker at its x")
    func scatterAndMarker() throws {
        var a = Axes(xLabel: "α", yLabel: "β")
        a.scatter(ScatterSeries("S", x: [0.3, 1.7, 2.5], y: [0.1, 0.8, 0.55], labels: ["a", "b", "c"]))
        a.verticalMarker(at: 1.2, label: "boundary")
        let fig = Self.fixedFigure(a)
        let c = Self.parsed(fig)
        let lay = fig.layout(ofPanel: 0)
        let points = c.elements("circle", class: "point")
        #expect(points.count == 3)
        for (i, (x, y)) in zip([0.3, 1.7, 2.5], [0.1, 0.8, 0.55]).enumerated() {
            #expect(abs(points[i].number("cx")! - lay.x.map(x)!) <= Self.tol)
            #expect(abs(points[i].number("cy")! - lay.y.map(y)!) <= Self.tol)
        }
        #expect(c.texts(class: "point-label") == ["a", "b", "c"])
        let marker = try #require(c.elements("line", class: "marker-line").first)
        #expect(abs(marker.number("x1")! - lay.x.map(1.2)!) <= Self.tol)
        #expect(c.texts(class: "marker-label") == ["boundary"])
    }

    @Test("scales: linear mapping, reversed ranges, log10 symmetry, non-finite values")
    func scales() {
        let y = Scale(domain: (0, 4), range: (200, 0))
        #expect(y.map(2) == 100 && y.map(0) == 200 && y.map(4) == 0)
        let log = Scale(kind: .log10, domain: (1, 1e4), range: (0, 400))
        let (a, b, m) = (log.map(10)!, log.map(1000)!, log.map(100)!)
        #expect(abs((m - a) - (b - m)) < 1e-9 && abs(m - 200) < 1e-9)
        #expect(log.map(0) == nil && log.map(-1) == nil && y.map(.nan) == nil && y.map(.infinity) == nil)
    }

    @Test("nice ticks and labels for 0…0.37, −3…17 and 1e-4…1 (log)")
    func niceTicks() {
        func round(_ v: [Double]) -> [Double] { v.map { ($0 * 1e9).rounded() / 1e9 } }
        #expect(Scale.niceDomain(lower: 0, upper: 0.37) == (0, 0.4))
        #expect(round(Scale.linearTicks(lower: 0, upper: 0.4)) == [0, 0.1, 0.2, 0.3, 0.4])
        #expect(Scale.niceDomain(lower: -3, upper: 17) == (-5, 20))
        #expect(Scale.linearTicks(lower: -5, upper: 20) == [-5, 0, 5, 10, 15, 20])
        #expect(Scale.linearTicks(lower: -3, upper: 17) == [0, 5, 10, 15])
        let eighths = round(Scale.linearTicks(lower: 0, upper: 0.37, target: 8))
        #expect(eighths == [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35])
        let log = Scale(kind: .log10, domain: (1e-4, 1), range: (0, 100))
        let lt = log.ticks()
        #expect(round(lt) == [1e-4, 1e-3, 1e-2, 1e-1, 1])
        #expect(lt.map { log.label($0, among: lt) } == ["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"])
        let lin = Scale(domain: (-5, 20), range: (0, 100))
        #expect(lin.ticks().map { lin.label($0, among: lin.ticks()) } == ["−5", "0", "5", "10", "15", "20"])
        let fine = Scale.linearTicks(lower: 0, upper: 0.2, target: 4)
        #expect(fine.map { Scale.linearLabel($0, step: 0.05, largest: 0.2) } == ["0", "0.05", "0.1", "0.15", "0.2"])
        #expect(Scale.linearLabel(0.003, step: 0.001, largest: 0.004) == "0.003")
        #expect(Scale.linearLabel(0.0003, step: 0.0001, largest: 0.0004) == "3e−4")
        #expect(Scale.logTicks(lower: 1e-12, upper: 1e6).count <= 10)
        #expect(Scale.logDomain(lower: 3e-5, upper: 0.7) == (1e-5, 1))
    }

    @Test("XML special characters in labels are escaped and read back")
    func escaping() {
        var a = Axes(title: "a<&>b \"q\" 'p'", xLabel: "x<1", yLabel: "y&z")
        a.horizontalBars([LabelledBar("AND {<x>}", 1)])
        let fig = Self.fixedFigure(a)
        let svg = fig.render()
        #expect(svg.contains("a&lt;&amp;&gt;b &quot;q&quot; &apos;p&apos;"))
        let c = Self.parsed(fig)
        #expect(c.texts(class: "title") == ["a<&>b \"q\" 'p'"])
        #expect(c.texts(class: "axis-label") == ["x<1"])
        #expect(c.elements("text", class: "tick").map(\.text).contains("AND {<x>}"))
        #expect(PlotFormat.escape("<&>") == "&lt;&amp;&gt;")
    }

    @Test("NaN and ±inf are skipped, never written; lines break there")
    func nonFinite() throws {
        var a = Axes()
        a.line(LineSeries("l", x: [0, 1, 2, 3, 4], y: [1, .nan, 2, 3, .infinity],
                          band: Band(lower: [0, 0, .nan, 2, 2], upper: [2, 2, 3, 4, 4])))
        a.scatter(ScatterSeries("s", x: [1, .nan, 2], y: [1, 1, -.infinity]))
        var b = Axes()
        b.signedBars([SignedBarSeries("b", [1, .nan, -2, .infinity])])
        var c = Axes()
        c.yScale = .log10
        c.line(LineSeries("log", x: [1, 2, 3, 4], y: [1, 0, -1, 10]))
        var fig = Figure(width: 600, height: 300, rows: 1, cols: 3)
        fig.panels = [a, b, c]
        let svg = fig.render()
        #expect(!svg.lowercased().contains("nan") && !svg.lowercased().contains("inf"))
        let parsed = Self.parsed(fig)
        let paths = parsed.elements("path", class: "series-line").map { $0.attributes["d"]! }
        #expect(paths.count == 2)
        #expect(paths[0].filter { $0 == "M" }.count == 2)  // (0,1) | (2,2)–(3,3)
        #expect(paths[1].filter { $0 == "M" }.count == 2)  // (1,1) | (4,10): 0 and −1 cannot be drawn on log
        #expect(parsed.elements("circle", class: "point").count == 1)
        #expect(parsed.elements("rect", class: "bar").count == 2)
    }

    @Test("an empty series draws the axes only")
    func emptySeries() {
        var a = Axes(title: "empty", xLabel: "x", yLabel: "y")
        a.line(LineSeries("nothing", x: [], y: []))
        a.scatter(ScatterSeries("none", x: [], y: []))
        let c = Self.parsed(Self.fixedFigure(a))
        #expect(c.elements("path", class: "series-line").isEmpty)
        #expect(c.elements("circle").filter { $0.classes.contains("point") }.isEmpty)
        #expect(c.elements("line", class: "axis").count >= 2)
        #expect(!c.texts(class: "tick").isEmpty)
        #expect(c.texts(class: "axis-label").sorted() == ["x", "y"])
        var empty = Figure()
        empty.axes = Axes()
        _ = Self.parsed(empty)
    }

    @Test("horizontal bars: labels on the left, positive right of zero, negative left, values at the ends")
    func horizontalBars() throws {
        var a = Axes(title: "top")
        a.horizontalBars([LabelledBar("AND {x1, x3}", 0.42), LabelledBar("OR {x2}", -0.31)])
        let fig = Self.fixedFigure(a)
        let c = Self.parsed(fig)
        let zero = try #require(c.elements("line", class: "zero-line").first?.number("x1"))
        let pos = try #require(c.elements("rect", class: "pos").first)
        let neg = try #require(c.elements("rect", class: "neg").first)
        #expect(abs(pos.number("x")! - zero) <= Self.tol)
        #expect(abs(neg.number("x")! + neg.number("width")! - zero) <= Self.tol)
        let lay = fig.layout(ofPanel: 0)
        #expect(abs(pos.number("width")! - (lay.x.map(0.42)! - lay.x.map(0)!)) <= 2 * Self.tol)
        #expect(pos.number("y")! < neg.number("y")!)  // rows top to bottom in the order given
        #expect(c.texts(class: "value") == ["+0.42", "−0.31"])
        #expect(c.elements("text", class: "tick").map(\.text).prefix(2) == ["AND {x1, x3}", "OR {x2}"])
        // The value labels fit inside the plot area.
        let widest = PlotFormat.signed(0.42).count
        #expect(lay.x.map(0.42)! + 4 + Double(widest) * 6 <= lay.plotArea.maxX + Self.tol)
    }

    @Test("image with player grid, dimmed cells, highlighted cells and cell indices")
    func image() {
        let img = GrayImage(rows: 4, cols: 4, pixels: (0..<16).map { Double($0 % 2) })  // columns alternate 0, 1
        let fig = Figure.playerSets(image: img, grid: PlayerGrid(rows: 2, cols: 2),
                                    sets: [HighlightedSet(cells: [1, 2], color: Palette.positive,
                                                          caption: "AND {1, 2}: +1")])
        let c = Self.parsed(fig)
        #expect(fig.panels.count == 2)
        #expect(c.elements("rect", class: "highlight").count == 2)
        #expect(c.elements("rect", class: "dim").count == 2)
        #expect(c.texts(class: "cell-index") == ["0", "1", "2", "3"])
        #expect(c.texts(class: "caption").contains("AND {1, 2}: +1"))
        // Alternating 0/1 columns: 4 rects per row, black and white.
        let pixels = c.nodes.filter { $0.name == "rect" && ($0.attributes["fill"] == "#000000"
            || $0.attributes["fill"] == "#FFFFFF") && $0.attributes["class"] == nil && $0.number("width")! < 200 }
        #expect(pixels.count == 2 * 16)
        // Highlighted cell 1 is the top-right quarter of the second panel's image box.
        let box = fig.layout(ofPanel: 1).plotArea
        let h = c.elements("rect", class: "highlight")[0]
        #expect(abs(h.number("x")! - box.midX) <= Self.tol && abs(h.number("y")! - box.y) <= Self.tol)
        #expect(PlayerGrid(rows: 3, cols: 4).cell(5, height: 10, width: 9) == (3..<6, 2..<4))
    }

    @Test("rendering is deterministic")
    func deterministic() {
        for (name, fig) in PlotExamples.figures() {
            #expect(fig.render() == fig.render(), "\(name)")
            #expect(fig.render() == PlotExamples.figures().first { $0.name == name }!.figure.render(), "\(name)")
        }
    }

    @Test("write(to:) replaces the file atomically and leaves no temporary file")
    func writeAtomic() throws {
        let dir = NSTemporaryDirectory() + "plot-write-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fig = PlotExamples.figures()[0].figure
        let path = dir + "/fig.svg"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        try fig.write(to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["fig.svg"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == fig.render())
        #expect(throws: PlotError.self) { try fig.write(to: dir + "/missing/fig.svg") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["fig.svg"])
    }

    @Test("coordinates are written to two decimals without trailing zeros")
    func coordinateFormat() {
        #expect(PlotFormat.coordinate(100) == "100")
        #expect(PlotFormat.coordinate(12.5) == "12.5")
        #expect(PlotFormat.coordinate(3.0749) == "3.07")
        #expect(PlotFormat.coordinate(-0.001) == "0")
        #expect(PlotFormat.coordinate(-2.05) == "-2.05")
        #expect(PlotFormat.coordinate(.nan) == nil && PlotFormat.coordinate(-.infinity) == nil)
        #expect(PlotFormat.signed(0.42) == "+0.42" && PlotFormat.signed(-1.25) == "−1.25")
    }

    @Test("a long sorted curve is one path element, without markers")
    func compactCurve() {
        var a = Axes()
        a.yScale = .log10
        a.line(LineSeries("|I|", y: (0..<4096).map { exp(-Double($0) / 100) }))
        let c = Self.parsed(Self.fixedFigure(a))
        #expect(c.elements("path", class: "series-line").count == 1)
        #expect(c.elements("circle").isEmpty)
    }
}
