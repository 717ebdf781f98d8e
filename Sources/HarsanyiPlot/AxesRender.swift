import Foundation

extension Axes {
    /// Draws these axes into `frame`. `id` names the clip path (unique within a figure, e.g. "p0").
    func render(into w: inout SVGWriter, frame: PlotRect, id: String) {
        let lay = layout(in: frame)
        w.open("g", [("class", "panel")])
        switch mode {
        case .image: renderImages(into: &w, layout: lay)
        case .horizontalBars: renderHorizontalBars(into: &w, layout: lay)
        case .xy: renderXY(into: &w, layout: lay, id: id)
        }
        if let title {
            w.label(title, x: lay.plotArea.midX, y: frame.y + 17, cls: "title", anchor: "middle")
        }
        let lines = captionLines(width: frame.width)
        for (i, line) in lines.enumerated() {
            w.label(line, x: frame.midX, y: frame.maxY - 7 - Axes.captionLineHeight * Double(lines.count - 1 - i),
                    cls: "caption", anchor: "middle", fill: captionColor)
        }
        w.close("g")
    }

    // MARK: - x/y charts

    private func renderXY(into w: inout SVGWriter, layout lay: AxesLayout, id: String) {
        let area = lay.plotArea
        drawGrid(into: &w, layout: lay, vertical: lay.xCategories == nil)
        // Data, clipped to the plot area widened by 6 px so markers on the edge stay whole.
        let clip = PlotRect(x: area.x - 6, y: area.y - 6, width: area.width + 12, height: area.height + 12)
        w.open("clipPath", [("id", "clip-" + id)])
        w.rect(clip, [])
        w.close("clipPath")
        w.open("g", [("clip-path", "url(#clip-\(id))")])
        var occupied: [PlotRect] = []
        let colors = seriesColors()
        var k = 0
        for item in items {
            switch item {
            case .signedBars(_, let series, let overlay):
                drawBars(series, overlay: overlay, into: &w, layout: lay, occupied: &occupied)
            case .line(let s):
                drawLine(s, color: colors[k], into: &w, layout: lay, occupied: &occupied)
                k += 1
            case .scatter(let s):
                drawScatter(s, color: colors[k], into: &w, layout: lay, occupied: &occupied)
                k += 1
            default: break
            }
        }
        w.close("g")
        // The zero line: under bars, and wherever a linear y axis spans both signs.
        let spansZero = lay.y.domain.lower < 0 && lay.y.domain.upper > 0
        if yScale == .linear, lay.xCategories != nil || spansZero,
           let zero = lay.y.map(0), zero >= area.y - 0.01, zero <= area.maxY + 0.01 {
            w.line(area.x, zero, area.maxX, zero, [("class", "zero-line"), ("stroke", "#000"), ("stroke-width", "1")])
        }
        drawAxes(into: &w, layout: lay)
        drawMarkers(into: &w, layout: lay)
        drawLegend(into: &w, area: area, occupied: occupied)
    }

    private func drawGrid(into w: inout SVGWriter, layout lay: AxesLayout, vertical: Bool) {
        guard showGrid else { return }
        let area = lay.plotArea
        let grid: SVGWriter.Attributes = [("class", "grid"), ("stroke", "#E6E6E6"), ("stroke-width", "1")]
        for t in lay.yTicks { if let p = lay.y.map(t) { w.line(area.x, p, area.maxX, p, grid) } }
        if vertical { for t in lay.xTicks { if let p = lay.x.map(t) { w.line(p, area.y, p, area.maxY, grid) } } }
    }

    /// Spines (left and bottom), ticks 5 px long, tick labels, axis labels; minor ticks 3 px on log axes.
    private func drawAxes(into w: inout SVGWriter, layout lay: AxesLayout) {
        let area = lay.plotArea
        let axis: SVGWriter.Attributes = [("class", "axis"), ("stroke", "#000"), ("stroke-width", "1")]
        w.line(area.x, area.y, area.x, area.maxY, axis)
        w.line(area.x, area.maxY, area.maxX, area.maxY, axis)
        for t in lay.yTicks {
            guard let p = lay.y.map(t) else { continue }
            w.line(area.x - 5, p, area.x, p, axis)
            w.label(lay.y.label(t, among: lay.yTicks), x: area.x - 8, y: p + 4, cls: "tick y", anchor: "end")
        }
        for t in lay.y.minorTicks() { if let p = lay.y.map(t) { w.line(area.x - 3, p, area.x, p, axis) } }
        drawXTicks(into: &w, layout: lay)
        if let yLabel {
            let x = area.x - (lay.yTicks.map {
                PlotFormat.textWidth(lay.y.label($0, among: lay.yTicks), fontSize: FontSize.tick) }.max() ?? 0) - 18
            w.label(yLabel, x: x, y: area.midY, cls: "axis-label y", anchor: "middle", rotate: -90)
        }
    }

    private func drawXTicks(into w: inout SVGWriter, layout lay: AxesLayout) {
        let area = lay.plotArea
        let axis: SVGWriter.Attributes = [("class", "axis"), ("stroke", "#000"), ("stroke-width", "1")]
        for t in lay.xTicks {
            guard let p = lay.x.map(t) else { continue }
            w.line(p, area.maxY, p, area.maxY + 5, axis)
            let text: String
            if let cats = lay.xCategories { text = cats[Int(t)] } else { text = lay.x.label(t, among: lay.xTicks) }
            w.label(text, x: p, y: area.maxY + 18, cls: "tick x", anchor: "middle")
        }
        for t in lay.x.minorTicks() { if let p = lay.x.map(t) { w.line(p, area.maxY, p, area.maxY + 3, axis) } }
        if let xLabel { w.label(xLabel, x: area.midX, y: area.maxY + 36, cls: "axis-label x", anchor: "middle") }
    }

    /// Bars of value v from the zero line (the bottom on a log axis) to y(v), 80 % of the category band wide,
    /// split evenly between the series unless overlaid; parts outside the plot area are cut off.
    private func drawBars(_ series: [SignedBarSeries], overlay: Bool, into w: inout SVGWriter, layout lay: AxesLayout,
                          occupied: inout [PlotRect]) {
        let area = lay.plotArea
        guard let c0 = lay.x.map(0), let c1 = lay.x.map(1) else { return }
        let group = 0.8 * abs(c1 - c0)
        let barW = overlay ? group : group / Double(max(series.count, 1))
        let base = yScale == .log10 ? area.maxY : min(max(lay.y.map(0) ?? area.maxY, area.y), area.maxY)
        for (j, s) in series.enumerated() {
            let pair = Palette.signedPair(j)
            for (i, v) in s.values.enumerated() {
                guard v.isFinite, v != 0, let centre = lay.x.map(Double(i)), let top = lay.y.map(v) else { continue }
                let end = min(max(top, area.y), area.maxY)
                let x0 = centre - group / 2 + (overlay ? 0 : Double(j) * barW)
                let r = PlotRect(x: x0, y: min(base, end), width: barW, height: abs(end - base))
                let positive = v > 0
                let color = positive ? (s.positiveColor ?? pair.positive) : (s.negativeColor ?? pair.negative)
                w.rect(r, [("class", positive ? "bar pos" : "bar neg"), ("fill", color)])
                occupied.append(r)
            }
        }
    }

    /// One `<path>` per line (broken at points that cannot be drawn), a band path below it, markers on top.
    private func drawLine(_ s: LineSeries, color: String, into w: inout SVGWriter, layout lay: AxesLayout,
                          occupied: inout [PlotRect]) {
        let n = min(s.x.count, s.y.count)
        if let band = s.band {
            let lower = (0..<n).map { i in i < band.lower.count ? point(s.x[i], band.lower[i], lay) : nil }
            let upper = (0..<n).map { i in i < band.upper.count ? point(s.x[i], band.upper[i], lay) : nil }
            var d = ""
            var i = 0
            while i < n {
                guard upper[i] != nil, lower[i] != nil else { i += 1; continue }
                var j = i
                while j < n, upper[j] != nil, lower[j] != nil { j += 1 }
                let run = (i..<j).map { upper[$0]! } + (i..<j).reversed().map { lower[$0]! }
                d += "M" + run.map { PlotFormat.c($0.0) + "," + PlotFormat.c($0.1) }.joined(separator: " L") + "Z"
                i = j
            }
            if !d.isEmpty {
                w.element("path", [("class", "band"), ("d", d), ("fill", color),
                                   ("fill-opacity", PlotFormat.c(band.opacity)), ("stroke", "none")])
            }
        }
        let pts = (0..<n).map { point(s.x[$0], s.y[$0], lay) }
        // "M x,y L x,y x,y …" per run of drawable points; a run of one point is a lone "M" (its marker shows it).
        var d = ""
        var run: [String] = []
        func flush() {
            guard let first = run.first else { return }
            d += (d.isEmpty ? "M" : " M") + first + (run.count > 1 ? " L" + run.dropFirst().joined(separator: " ") : "")
            run.removeAll(keepingCapacity: true)
        }
        // A point within `lineResolution` px (in x and y) of the last one written is left out unless it ends a
        // run: the path moves by less than that, and a curve of thousands of points shrinks to about one vertex
        // per pixel column. Every written vertex, and points every 10 px along each segment, count as occupied
        // for the legend's placement.
        var last: (Double, Double)?
        for (i, p) in pts.enumerated() {
            guard let p else { flush(); last = nil; continue }
            let endsRun = i + 1 == pts.count || pts[i + 1] == nil
            if let l = last, !endsRun, abs(p.0 - l.0) < Axes.lineResolution, abs(p.1 - l.1) < Axes.lineResolution {
                continue
            }
            run.append(PlotFormat.c(p.0) + "," + PlotFormat.c(p.1))
            if let l = last {
                let steps = Int((max(abs(p.0 - l.0), abs(p.1 - l.1)) / 10).rounded(.down))
                for k in stride(from: 1, through: steps, by: 1) {
                    let t = Double(k) / Double(steps + 1)
                    occupied.append(PlotRect(x: l.0 + t * (p.0 - l.0), y: l.1 + t * (p.1 - l.1), width: 0, height: 0))
                }
            }
            occupied.append(PlotRect(x: p.0, y: p.1, width: 0, height: 0))
            last = p
        }
        flush()
        if !d.isEmpty {
            var a: SVGWriter.Attributes = [("class", "series-line"), ("d", d), ("fill", "none"), ("stroke", color),
                                           ("stroke-width", PlotFormat.c(s.lineWidth)),
                                           ("stroke-linejoin", "round")]
            if s.dashed { a.append(("stroke-dasharray", "6 4")) }
            w.element("path", a)
        }
        let drawn = pts.compactMap { $0 }
        let shape = s.marker ?? (drawn.count <= LineSeries.autoMarkerLimit ? .circle : .hidden)
        for p in drawn { drawMarker(shape, p.0, p.1, radius: 3, color: color, cls: "line-marker", into: &w) }
    }

    private func drawScatter(_ s: ScatterSeries, color: String, into w: inout SVGWriter, layout lay: AxesLayout,
                             occupied: inout [PlotRect]) {
        for i in 0..<min(s.x.count, s.y.count) {
            guard let p = point(s.x[i], s.y[i], lay) else { continue }
            let shape = s.marker == .hidden ? .circle : s.marker
            drawMarker(shape, p.0, p.1, radius: s.radius, color: color, cls: "point", into: &w)
            occupied.append(PlotRect(x: p.0 - s.radius, y: p.1 - s.radius, width: 2 * s.radius, height: 2 * s.radius))
            if let labels = s.labels, i < labels.count, !labels[i].isEmpty {
                w.label(labels[i], x: p.0 + s.radius + 3, y: p.1 - s.radius - 1, cls: "point-label")
                let width = PlotFormat.textWidth(labels[i], fontSize: FontSize.small)
                occupied.append(PlotRect(x: p.0 + s.radius + 3, y: p.1 - s.radius - 11, width: width, height: 10))
            }
        }
    }

    /// The pixel position of (x, y), or `nil` when either coordinate cannot be drawn.
    func point(_ x: Double, _ y: Double, _ lay: AxesLayout) -> (Double, Double)? {
        guard let px = lay.x.map(x), let py = lay.y.map(y) else { return nil }
        return (px, py)
    }

    func drawMarker(_ shape: MarkerShape, _ x: Double, _ y: Double, radius r: Double, color: String, cls: String,
                    into w: inout SVGWriter) {
        switch shape {
        case .hidden: break
        case .circle:
            w.element("circle", [("class", cls), ("cx", PlotFormat.c(x)), ("cy", PlotFormat.c(y)),
                                 ("r", PlotFormat.c(r)), ("fill", color)])
        case .square:
            w.rect(PlotRect(x: x - r, y: y - r, width: 2 * r, height: 2 * r), [("class", cls), ("fill", color)])
        case .diamond:
            let d = "M\(PlotFormat.c(x)),\(PlotFormat.c(y - r * 1.3)) L\(PlotFormat.c(x + r * 1.3)),\(PlotFormat.c(y)) "
                + "L\(PlotFormat.c(x)),\(PlotFormat.c(y + r * 1.3)) L\(PlotFormat.c(x - r * 1.3)),\(PlotFormat.c(y))Z"
            w.element("path", [("class", cls), ("d", d), ("fill", color)])
        }
    }

    /// Vertical and horizontal reference lines with their labels, drawn over the data.
    private func drawMarkers(into w: inout SVGWriter, layout lay: AxesLayout) {
        let area = lay.plotArea
        for case .marker(let m) in items {
            var a: SVGWriter.Attributes = [("class", "marker-line"), ("stroke", m.color), ("stroke-width", "1.5")]
            if m.dashed { a.append(("stroke-dasharray", "5 3")) }
            switch m.orientation {
            case .vertical:
                guard let x = lay.x.map(m.value), x >= area.x - 0.01, x <= area.maxX + 0.01 else { continue }
                w.line(x, area.y, x, area.maxY, a)
                let right = x > area.x + 0.7 * area.width
                w.label(m.label, x: right ? x - 4 : x + 4, y: area.y + 12, cls: "marker-label",
                        anchor: right ? "end" : "start", fill: m.color)
            case .horizontal:
                guard let y = lay.y.map(m.value), y >= area.y - 0.01, y <= area.maxY + 0.01 else { continue }
                w.line(area.x, y, area.maxX, y, a)
                w.label(m.label, x: area.maxX - 4, y: y - 4, cls: "marker-label", anchor: "end", fill: m.color)
            }
        }
    }

    // MARK: - Horizontal bars

    /// Row i centred at y(i), 70 % of the row high (at most 22 px), from x(0) to x(v); the label left of the
    /// plot area, the value just beyond the bar's end.
    private func renderHorizontalBars(into w: inout SVGWriter, layout lay: AxesLayout) {
        let area = lay.plotArea
        drawGrid(into: &w, layout: AxesLayout(plotArea: area, x: lay.x, y: lay.y, xTicks: lay.xTicks, yTicks: [],
                                              xCategories: nil, yCategories: nil), vertical: true)
        let rows = self.rows
        let rowH = area.height / Double(max(rows.count, 1))
        let thick = min(0.7 * rowH, 22)
        let zero = min(max(lay.x.map(0) ?? area.x, area.x), area.maxX)
        var occupied: [PlotRect] = []
        for (i, row) in rows.enumerated() {
            guard let cy = lay.y.map(Double(i)) else { continue }
            w.label(row.label, x: area.x - 8, y: cy + 4, cls: "tick y", anchor: "end")
            guard row.value.isFinite, let end = lay.x.map(row.value) else { continue }
            let e = min(max(end, area.x), area.maxX)
            let positive = row.value >= 0
            let r = PlotRect(x: min(zero, e), y: cy - thick / 2, width: abs(e - zero), height: thick)
            w.rect(r, [("class", positive ? "bar pos" : "bar neg"),
                       ("fill", row.color ?? (positive ? Palette.positive : Palette.negative))])
            occupied.append(r)
            let text = row.valueText ?? PlotFormat.signed(row.value)
            w.label(text, x: positive ? e + 4 : e - 4, y: cy + 4, cls: "value", anchor: positive ? "start" : "end")
        }
        w.line(zero, area.y, zero, area.maxY, [("class", "zero-line"), ("stroke", "#000"), ("stroke-width", "1")])
        w.line(area.x, area.maxY, area.maxX, area.maxY, [("class", "axis"), ("stroke", "#000"), ("stroke-width", "1")])
        drawXTicks(into: &w, layout: lay)
        drawMarkers(into: &w, layout: lay)
        drawLegend(into: &w, area: area, occupied: occupied)
    }
}
