import Foundation

/// Where an ``Axes`` draws inside a panel: its plot area, scales and ticks. ``Axes/layout(in:)`` computes it;
/// rendering uses exactly this, so a caller (or a test) can predict every pixel.
public struct AxesLayout: Sendable {
    /// The plot area in pixels.
    public var plotArea: PlotRect
    /// x: domain → [plotArea.x, plotArea.maxX].
    public var x: Scale
    /// y: domain → [plotArea.maxY, plotArea.y] (larger values higher up), or rows top to bottom for
    /// horizontal bars.
    public var y: Scale
    public var xTicks: [Double]
    public var yTicks: [Double]
    /// Labels of a categorical x axis (category i at x = i), or `nil`.
    public var xCategories: [String]?
    /// Labels of a categorical y axis (row i at y = i), or `nil`.
    public var yCategories: [String]?
}

/// Font sizes in pixels.
enum FontSize {
    static let tick = 11.0, label = 12.0, title = 13.0, figureTitle = 15.0, legend = 11.0, small = 10.0
}

extension Axes {
    /// The layout of these axes in the panel `frame`.
    ///
    /// Margins, unless fixed by ``margins``: top 10 px (+16 with a title); bottom 24 for tick labels
    /// (+18 with an x label, +3 + 15 per caption line); left 10 + the widest y tick label + 6 (+18 with a y label);
    /// right 14 (+ the legend's width when it is outside). About one y tick per 45 px and one x tick per 80 px.
    public func layout(in frame: PlotRect) -> AxesLayout {
        let top = margins?.top ?? ((title == nil ? 10 : 26))
        let captionRoom = Axes.captionLineHeight * Double(captionLines(width: frame.width).count)
        switch mode {
        case .image:
            let bottom = margins?.bottom ?? 8 + captionRoom
            let side = margins?.left ?? 6
            return imageLayout(PlotRect(x: frame.x + side, y: frame.y + top, width: frame.width - 2 * side,
                                        height: frame.height - top - bottom))
        case .horizontalBars, .xy:
            break
        }
        let bottom = margins?.bottom ?? (24 + (xLabel == nil ? 0 : 18) + captionRoom + (captionRoom > 0 ? 3 : 0))
        let plotY = frame.y + top, plotH = max(frame.height - top - bottom, 10)
        let yTarget = min(max(Int(plotH / 45), 2), 8)
        let legendRoom = legend == .outsideRight ? legendSize().width + 12 : 0

        if mode == .horizontalBars {
            let rows = self.rows
            let labelW = rows.map { PlotFormat.textWidth($0.label, fontSize: FontSize.tick) }.max() ?? 0
            let left = margins?.left ?? (10 + labelW + 8)
            let right = margins?.right ?? (12 + legendRoom)
            let plotX = frame.x + left, plotW = max(frame.width - left - right, 10)
            let area = PlotRect(x: plotX, y: plotY, width: plotW, height: plotH)
            let domain = xDomain ?? horizontalBarDomain(rows, width: plotW)
            let x = Scale(kind: .linear, domain: domain, range: (plotX, plotX + plotW))
            let y = Scale(kind: .linear, domain: (-0.5, Double(rows.count) - 0.5), range: (plotY, plotY + plotH))
            let xTarget = min(max(Int(plotW / 80), 2), 10)
            return AxesLayout(plotArea: area, x: x, y: y, xTicks: x.ticks(target: xTarget),
                              yTicks: rows.indices.map(Double.init), xCategories: nil, yCategories: rows.map(\.label))
        }

        // The y axis first: its tick labels decide the left margin.
        let yExtent = dataExtent(axis: 1, log: yScale == .log10)
        let yDom = yDomain ?? fitted(yExtent, log: yScale == .log10, target: yTarget)
        var y = Scale(kind: yScale, domain: yDom, range: (plotY + plotH, plotY))
        let yTicks = y.ticks(target: yTarget)
        let yLabelW = yTicks.map { PlotFormat.textWidth(y.label($0, among: yTicks), fontSize: FontSize.tick) }
            .max() ?? 0
        let left = margins?.left ?? (10 + yLabelW + 6 + (yLabel == nil ? 0 : 18))
        let right = margins?.right ?? (14 + legendRoom)
        let plotX = frame.x + left, plotW = max(frame.width - left - right, 10)
        y.range = (plotY + plotH, plotY)
        let area = PlotRect(x: plotX, y: plotY, width: plotW, height: plotH)

        if let cats = categories {
            let x = Scale(kind: .linear, domain: (-0.5, Double(cats.count) - 0.5), range: (plotX, plotX + plotW))
            // Label every k-th category so labels stay at least about 4 px apart.
            let widest = cats.map { PlotFormat.textWidth($0, fontSize: FontSize.tick) }.max() ?? 0
            let perCategory = plotW / Double(max(cats.count, 1))
            let every = max(1, Int(((widest + 4) / perCategory).rounded(.up)))
            let ticks = stride(from: 0, to: cats.count, by: every).map(Double.init)
            return AxesLayout(plotArea: area, x: x, y: y, xTicks: ticks, yTicks: yTicks, xCategories: cats,
                              yCategories: nil)
        }
        let xTarget = min(max(Int(plotW / 80), 2), 10)
        let xExtent = dataExtent(axis: 0, log: xScale == .log10)
        let xDom = xDomain ?? fitted(xExtent, log: xScale == .log10, target: xTarget)
        let x = Scale(kind: xScale, domain: xDom, range: (plotX, plotX + plotW))
        return AxesLayout(plotArea: area, x: x, y: y, xTicks: x.ticks(target: xTarget), yTicks: yTicks,
                          xCategories: nil, yCategories: nil)
    }

    /// A nice domain around an extent: whole decades on a log axis, whole nice steps on a linear one;
    /// (0, 1) or (1, 10) when there is no data.
    func fitted(_ extent: (Double, Double)?, log: Bool, target: Int) -> (lower: Double, upper: Double) {
        guard let (lo, hi) = extent else { return log ? (1, 10) : (0, 1) }
        return log ? Scale.logDomain(lower: lo, upper: hi) : Scale.niceDomain(lower: lo, upper: hi, target: target)
    }

    /// The finite extent of everything drawn along an axis (0 = x, 1 = y); only positive values on a log axis.
    /// Bars contribute 0 as well as their values; markers their position.
    func dataExtent(axis: Int, log: Bool) -> (Double, Double)? {
        var lo = Double.infinity, hi = -Double.infinity
        func take(_ v: Double) {
            guard v.isFinite, !log || v > 0 else { return }
            lo = min(lo, v)
            hi = max(hi, v)
        }
        for item in items {
            switch item {
            case .signedBars(_, let series, _):
                if axis == 1 {
                    if !log { take(0) }
                    series.forEach { $0.values.forEach(take) }
                }
            case .line(let s):
                let n = min(s.x.count, s.y.count)
                for i in 0..<n where s.x[i].isFinite && s.y[i].isFinite {
                    take(axis == 0 ? s.x[i] : s.y[i])
                    if axis == 1, let band = s.band {
                        if i < band.lower.count { take(band.lower[i]) }
                        if i < band.upper.count { take(band.upper[i]) }
                    }
                }
            case .scatter(let s):
                let n = min(s.x.count, s.y.count)
                for i in 0..<n where s.x[i].isFinite && s.y[i].isFinite { take(axis == 0 ? s.x[i] : s.y[i]) }
            case .marker(let m):
                if (m.orientation == .vertical && axis == 0) || (m.orientation == .horizontal && axis == 1) {
                    take(m.value)
                }
            case .horizontalBars, .image:
                break
            }
        }
        return lo <= hi ? (lo, hi) : nil
    }

    /// The x domain of horizontal bars: 0 and every value, widened so the value labels at the bar ends fit
    /// inside the plot area: with L₊, L₋ the widest label on each side and W the width, the bars take the
    /// fraction (W − L₊ − L₋)/W of the span.
    func horizontalBarDomain(_ rows: [LabelledBar], width: Double) -> (lower: Double, upper: Double) {
        let values = rows.map(\.value).filter(\.isFinite)
        let hi = max(values.max() ?? 0, 0), lo = min(values.min() ?? 0, 0)
        if hi == lo { return (0, 1) }
        func labelWidth(_ positive: Bool) -> Double {
            rows.filter { $0.value.isFinite && ($0.value > 0) == positive && $0.value != 0 }
                .map { PlotFormat.textWidth($0.valueText ?? PlotFormat.signed($0.value), fontSize: FontSize.small) + 6 }
                .max() ?? 0
        }
        let lp = labelWidth(true), ln = labelWidth(false)
        let usable = max(width - lp - ln, width * 0.3)
        let span = (hi - lo) * width / usable
        return (lo - ln / width * span, hi + lp / width * span)
    }

    /// The image mode's plot area: the image's own box, as large as fits in `area` with square pixels, centred.
    func imageLayout(_ area: PlotRect) -> AxesLayout {
        var rows = 1, cols = 1
        for case .image(let item) in items {
            rows = item.image.rows
            cols = item.image.cols
            break
        }
        let s = max(min(area.width / Double(max(cols, 1)), area.height / Double(max(rows, 1))), 0)
        let w = s * Double(cols), h = s * Double(rows)
        let box = PlotRect(x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h)
        let x = Scale(kind: .linear, domain: (0, Double(cols)), range: (box.x, box.maxX))
        let y = Scale(kind: .linear, domain: (0, Double(rows)), range: (box.y, box.maxY))
        return AxesLayout(plotArea: box, x: x, y: y, xTicks: [], yTicks: [], xCategories: nil, yCategories: nil)
    }
}
