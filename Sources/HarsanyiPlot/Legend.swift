/// One legend row: a swatch and a name.
struct LegendEntry {
    enum Swatch {
        /// A box, split into an upper (positive) and lower (negative) half when there are two colours.
        case bars(positive: String, negative: String?)
        /// A short line, dashed or not, with the series' marker and band behind it.
        case line(color: String, dashed: Bool, marker: MarkerShape, band: Double?)
        case point(color: String, marker: MarkerShape)
    }
    var name: String
    var swatch: Swatch
}

extension Axes {
    /// Rows of the legend: every named series, in the order drawn. Unnamed series (empty name) are left out.
    func legendEntries() -> [LegendEntry] {
        var out: [LegendEntry] = []
        let colors = seriesColors()
        var k = 0
        for item in items {
            switch item {
            case .signedBars(_, let series, _):
                for (j, s) in series.enumerated() where !s.name.isEmpty {
                    let pair = Palette.signedPair(j)
                    let hasPos = s.values.contains { $0.isFinite && $0 > 0 }
                    let hasNeg = s.values.contains { $0.isFinite && $0 < 0 }
                    let pos = s.positiveColor ?? pair.positive, neg = s.negativeColor ?? pair.negative
                    let swatch: LegendEntry.Swatch = hasPos && hasNeg ? .bars(positive: pos, negative: neg)
                        : .bars(positive: hasNeg ? neg : pos, negative: nil)
                    out.append(LegendEntry(name: s.name, swatch: swatch))
                }
            case .line(let s):
                if !s.name.isEmpty {
                    let drawn = min(s.x.count, s.y.count)
                    let marker = s.marker ?? (drawn <= LineSeries.autoMarkerLimit ? .circle : .hidden)
                    out.append(LegendEntry(name: s.name, swatch: .line(color: colors[k], dashed: s.dashed,
                                                                         marker: marker, band: s.band?.opacity)))
                }
                k += 1
            case .scatter(let s):
                if !s.name.isEmpty {
                    out.append(LegendEntry(name: s.name, swatch: .point(color: colors[k], marker: s.marker)))
                }
                k += 1
            default: break
            }
        }
        return out
    }

    /// Legend box size: rows of 16 px plus 8 px padding; 8 + a 22 px swatch + 6 + the widest name + 8 wide.
    func legendSize() -> (width: Double, height: Double) {
        let entries = legendEntries()
        guard !entries.isEmpty else { return (0, 0) }
        let widest = entries.map { PlotFormat.textWidth($0.name, fontSize: FontSize.legend) }.max() ?? 0
        return (44 + widest, 8 + 16 * Double(entries.count))
    }

    /// Draws the legend box. With ``LegendPosition/auto`` the corner is the one whose box meets the fewest
    /// `occupied` rectangles (drawn bars, points and line vertices).
    func drawLegend(into w: inout SVGWriter, area: PlotRect, occupied: [PlotRect]) {
        let entries = legendEntries()
        guard !entries.isEmpty, legend != .hidden else { return }
        let (bw, bh) = legendSize()
        let inset = 6.0
        func box(_ p: LegendPosition) -> PlotRect {
            switch p {
            case .topLeft: return PlotRect(x: area.x + inset, y: area.y + inset, width: bw, height: bh)
            case .bottomRight:
                return PlotRect(x: area.maxX - inset - bw, y: area.maxY - inset - bh, width: bw, height: bh)
            case .bottomLeft: return PlotRect(x: area.x + inset, y: area.maxY - inset - bh, width: bw, height: bh)
            case .outsideRight: return PlotRect(x: area.maxX + 12, y: area.y, width: bw, height: bh)
            default: return PlotRect(x: area.maxX - inset - bw, y: area.y + inset, width: bw, height: bh)
            }
        }
        var position = legend
        if position == .auto {
            let corners: [LegendPosition] = [.topRight, .topLeft, .bottomRight, .bottomLeft]
            let counts = corners.map { c in occupied.filter { box(c).intersects($0) }.count }
            position = corners[counts.firstIndex(of: counts.min()!)!]
        }
        let b = box(position)
        w.open("g", [("class", "legend")])
        w.rect(b, [("fill", "#FFFFFF"), ("fill-opacity", "0.85"), ("stroke", "#999999"), ("stroke-width", "0.8")])
        for (i, e) in entries.enumerated() {
            let cy = b.y + 4 + 16 * Double(i) + 8
            let sx = b.x + 8
            switch e.swatch {
            case .bars(let pos, let neg):
                if let neg {
                    w.rect(PlotRect(x: sx + 5, y: cy - 6, width: 12, height: 6), [("fill", pos)])
                    w.rect(PlotRect(x: sx + 5, y: cy, width: 12, height: 6), [("fill", neg)])
                } else {
                    w.rect(PlotRect(x: sx + 5, y: cy - 6, width: 12, height: 12), [("fill", pos)])
                }
            case .line(let color, let dashed, let marker, let band):
                if let band {
                    w.rect(PlotRect(x: sx, y: cy - 6, width: 22, height: 12),
                           [("fill", color), ("fill-opacity", PlotFormat.c(band))])
                }
                var a: SVGWriter.Attributes = [("stroke", color), ("stroke-width", "1.8")]
                if dashed { a.append(("stroke-dasharray", "6 4")) }
                w.line(sx, cy, sx + 22, cy, a)
                drawMarker(marker, sx + 11, cy, radius: 3, color: color, cls: "legend-marker", into: &w)
            case .point(let color, let marker):
                drawMarker(marker == .hidden ? .circle : marker, sx + 11, cy, radius: 3.5, color: color,
                           cls: "legend-marker", into: &w)
            }
            w.label(e.name, x: sx + 28, y: cy + 4, cls: "legend-text")
        }
        w.close("g")
    }
}
