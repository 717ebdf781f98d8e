import Foundation

/// Errors of writing a figure.
public enum PlotError: Error, CustomStringConvertible {
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case .write(let path, let reason): return "cannot write the figure \(path): \(reason)"
        }
    }
}

/// An SVG figure: a title and a grid of rows × cols panels (``Axes``), row-major.
///
/// The page is split evenly: below a 30 px title band (when there is a title) each panel gets
/// width/cols × (height − 30)/rows pixels. ``render()`` is deterministic: the same figure gives the same bytes
/// (coordinates to two decimals, see ``PlotFormat``; clip paths named "clip-p<panel index>").
public struct Figure: Sendable {
    public var width: Double
    public var height: Double
    public var title: String?
    public let rows: Int
    public let cols: Int
    /// rows × cols panels, row-major; all start empty.
    public var panels: [Axes]

    public init(width: Double = 640, height: Double = 420, rows: Int = 1, cols: Int = 1, title: String? = nil) {
        precondition(rows > 0 && cols > 0, "a figure needs at least one panel")
        self.width = width
        self.height = height
        self.title = title
        self.rows = rows
        self.cols = cols
        self.panels = Array(repeating: Axes(), count: rows * cols)
    }

    /// The panel in row `row`, column `col`.
    public subscript(row: Int, col: Int) -> Axes {
        get { panels[row * cols + col] }
        set { panels[row * cols + col] = newValue }
    }

    /// The first panel (the only one of a 1 × 1 figure).
    public var axes: Axes {
        get { panels[0] }
        set { panels[0] = newValue }
    }

    /// The frame of panel `index` (row-major) in pixels.
    public func frame(ofPanel index: Int) -> PlotRect {
        let top = title == nil ? 0.0 : 30.0
        let w = width / Double(cols), h = (height - top) / Double(rows)
        return PlotRect(x: Double(index % cols) * w, y: top + Double(index / cols) * h, width: w, height: h)
    }

    /// The layout of panel `index`, exactly as ``render()`` draws it.
    public func layout(ofPanel index: Int) -> AxesLayout { panels[index].layout(in: frame(ofPanel: index)) }

    static let style = """
        text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif}\
        .tick,.value,.legend-text{font-size:11px}.axis-label,.caption{font-size:12px}\
        .title{font-size:13px;font-weight:bold}.figure-title{font-size:15px;font-weight:bold}\
        .marker-label,.point-label{font-size:10px}.cell-index{font-size:9px}
        """

    /// The figure as a standalone SVG document.
    public func render() -> String {
        var w = SVGWriter()
        w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        let (ws, hs) = (PlotFormat.c(width), PlotFormat.c(height))
        w.open("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("width", ws), ("height", hs),
                       ("viewBox", "0 0 \(ws) \(hs)")])
        w.raw("<style>" + Self.style + "</style>\n")
        w.rect(PlotRect(x: 0, y: 0, width: width, height: height), [("fill", "#FFFFFF")])
        if let title { w.label(title, x: width / 2, y: 21, cls: "figure-title", anchor: "middle") }
        for (i, axes) in panels.enumerated() { axes.render(into: &w, frame: frame(ofPanel: i), id: "p\(i)") }
        w.close("svg")
        return w.text
    }

    /// Writes ``render()`` to `path` atomically: into a temporary file in the same folder, then renamed over
    /// `path`, so a reader never sees half a figure; the temporary file is removed if anything fails.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let temp = dir + "/." + url.lastPathComponent + ".tmp-\(ProcessInfo.processInfo.processIdentifier)-"
            + UUID().uuidString
        guard FileManager.default.createFile(atPath: temp, contents: Data(render().utf8)) else {
            throw PlotError.write(path: path, reason: "cannot create \(temp)")
        }
        if rename(temp, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw PlotError.write(path: path, reason: reason)
        }
    }
}
