import OmniData

/// A line chart of one or more series — loss and metric curves of a run — rendered to pixels
/// without any graphics library and saved as PNG.
///
/// The chart has a title, axes with tick marks, tick labels and light grid lines, axis labels, one
/// coloured line per series (non-finite points break the line) and a legend in the corner where
/// it hides the fewest points.
///
/// ```swift
/// var plot = LinePlot(title: "training loss", xLabel: "step", yLabel: "loss")
/// plot.series.append(.init(name: "train", points: steps.indices.map { (Double(steps[$0]), losses[$0]) }))
/// try plot.write(to: "runs/demo/plots/loss.png")
/// ```
public struct LinePlot: Sendable {
    /// One line.
    public struct Series: Sendable {
        /// The legend entry (series with empty names are left out of the legend).
        public var name: String
        /// (x, y) in drawing order.
        public var points: [(x: Double, y: Double)]
        /// The line colour; nil takes the next ``PlotColor/palette`` colour.
        public var color: PlotColor?

        public init(name: String, points: [(x: Double, y: Double)], color: PlotColor? = nil) {
            self.name = name
            self.points = points
            self.color = color
        }
    }

    /// Centred above the chart (empty: none).
    public var title: String
    /// Centred below the x axis.
    public var xLabel: String
    /// Above the y axis.
    public var yLabel: String
    /// The lines, drawn in order (later ones on top).
    public var series: [Series]
    /// Image size in pixels.
    public var width: Int
    public var height: Int
    /// Log₁₀ y axis (points with y ≤ 0 are then left out) — useful for losses spanning decades.
    public var logarithmicY: Bool
    /// Line thickness in pixels.
    public var lineThickness: Int

    public init(title: String = "", xLabel: String = "", yLabel: String = "", series: [Series] = [],
                width: Int = 640, height: Int = 400, logarithmicY: Bool = false, lineThickness: Int = 2) {
        precondition(width >= 160 && height >= 120, "LinePlot: size \(width)×\(height) is below the 160×120 minimum")
        precondition(lineThickness >= 1, "LinePlot: lineThickness must be at least 1, got \(lineThickness)")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.width = width
        self.height = height
        self.logarithmicY = logarithmicY
        self.lineThickness = lineThickness
    }

    /// Where everything goes: the axes and the plot area (the rectangle inside the frame).
    public struct Layout: Sendable, Equatable {
        /// The horizontal axis.
        public let xAxis: PlotAxis
        /// The vertical axis.
        public let yAxis: PlotAxis
        /// Left, top, width and height of the plot area in pixels (the frame is drawn on its border).
        public let plotX: Int, plotY: Int, plotWidth: Int, plotHeight: Int

        /// The pixel of data point (x, y): ``plotX`` + round(fx · (plotWidth − 1)) across and
        /// ``plotY`` + plotHeight − 1 − round(fy · (plotHeight − 1)) down, with fx, fy the
        /// points' fractions along each axis (nil when an axis cannot show the value).
        public func pixel(x: Double, y: Double) -> (x: Int, y: Int)? {
            guard let fx = xAxis.fraction(of: x), let fy = yAxis.fraction(of: y) else { return nil }
            // Clamp far-out values to a range Int conversion and line walking handle.
            let px = Swift.min(Swift.max(fx * Double(plotWidth - 1), -1e6), 1e6)
            let py = Swift.min(Swift.max(fy * Double(plotHeight - 1), -1e6), 1e6)
            return (plotX + Int(px.rounded()), plotY + plotHeight - 1 - Int(py.rounded()))
        }
    }

    static let padding = 8, tickLength = 4, labelGap = 4, lineGap = 6

    /// The axes and plot area for the current series and size.
    public var layout: Layout {
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { s in s.points.filter { $0.x.isFinite }.map(\.y) }
        let xAxis = PlotAxis.linear(covering: xs)
        let yAxis = logarithmicY ? PlotAxis.logarithmic(covering: ys) : PlotAxis.linear(covering: ys)
        let font = BitmapFont.height()
        let yLabelWidth = yAxis.ticks.map { BitmapFont.width(of: yAxis.label($0)) }.max() ?? 0
        let lastXLabel = xAxis.ticks.last.map { BitmapFont.width(of: xAxis.label($0)) } ?? 0
        let top = Self.padding + (title.isEmpty ? 0 : font + Self.lineGap) + (yLabel.isEmpty ? 0 : font + Self.lineGap)
        let left = Self.padding + yLabelWidth + Self.tickLength + Self.labelGap
        let bottom = Self.padding + font + Self.tickLength + Self.labelGap + (xLabel.isEmpty ? 0 : font + Self.lineGap)
        let right = Swift.max(Self.padding + 4, lastXLabel / 2 + Self.padding)
        return Layout(xAxis: xAxis, yAxis: yAxis, plotX: left, plotY: top,
                      plotWidth: Swift.max(16, width - left - right), plotHeight: Swift.max(16, height - top - bottom))
    }

    /// The colour each series is drawn in.
    public var resolvedColors: [PlotColor] {
        var next = 0
        return series.map { s in
            if let c = s.color { return c }
            defer { next += 1 }
            return PlotColor.palette[next % PlotColor.palette.count]
        }
    }

    /// Draws the chart.
    public func render() -> Canvas {
        var canvas = Canvas(width: width, height: height, background: .white)
        let l = layout, font = BitmapFont.height()
        let (left, top, w, h) = (l.plotX, l.plotY, l.plotWidth, l.plotHeight)
        let bottomEdge = top + h - 1

        // Grid, frame, ticks and tick labels.
        for t in l.xAxis.ticks {
            guard let p = l.pixel(x: t, y: l.yAxis.lower) else { continue }
            canvas.fillRectangle(x: p.x, y: top, width: 1, height: h, color: .lightGray)
            canvas.fillRectangle(x: p.x, y: bottomEdge + 1, width: 1, height: Self.tickLength, color: .darkGray)
            let text = l.xAxis.label(t)
            BitmapFont.draw(text, on: &canvas, x: p.x - BitmapFont.width(of: text) / 2,
                            y: bottomEdge + 1 + Self.tickLength + Self.labelGap, color: .darkGray)
        }
        for t in l.yAxis.ticks {
            guard let p = l.pixel(x: l.xAxis.lower, y: t) else { continue }
            canvas.fillRectangle(x: left, y: p.y, width: w, height: 1, color: .lightGray)
            canvas.fillRectangle(x: left - Self.tickLength, y: p.y, width: Self.tickLength, height: 1, color: .darkGray)
            let text = l.yAxis.label(t)
            BitmapFont.draw(text, on: &canvas, x: left - Self.tickLength - Self.labelGap - BitmapFont.width(of: text),
                            y: p.y - font / 2, color: .darkGray)
        }
        canvas.strokeRectangle(x: left, y: top, width: w, height: h, color: .darkGray)

        // Lines, clipped to the inside of the frame.
        let colors = resolvedColors
        canvas.clip = (left + 1, top + 1, w - 2, h - 2)
        for (s, color) in zip(series, colors) {
            var previous: (x: Int, y: Int)?
            var run = 0
            // A point without a drawable neighbour (alone, or between gaps) is drawn as a dot.
            func endRun() {
                if run == 1, let p = previous {
                    canvas.fillRectangle(x: p.x - lineThickness, y: p.y - lineThickness, width: 2 * lineThickness + 1,
                                         height: 2 * lineThickness + 1, color: color)
                }
                previous = nil
                run = 0
            }
            for point in s.points {
                guard let p = l.pixel(x: point.x, y: point.y) else { endRun(); continue }
                if let q = previous { canvas.drawLine(from: q, to: p, color: color, thickness: lineThickness) }
                previous = p
                run += 1
            }
            endRun()
        }
        canvas.clip = nil
        drawLegend(on: &canvas, layout: l, colors: colors)

        // Title and axis labels.
        if !title.isEmpty {
            BitmapFont.draw(title, on: &canvas, x: (width - BitmapFont.width(of: title)) / 2, y: Self.padding, color: .black)
        }
        if !yLabel.isEmpty {
            BitmapFont.draw(yLabel, on: &canvas, x: Swift.max(Self.padding, left - BitmapFont.width(of: yLabel) / 2),
                            y: top - Self.lineGap - font, color: .black)
        }
        if !xLabel.isEmpty {
            BitmapFont.draw(xLabel, on: &canvas, x: left + (w - BitmapFont.width(of: xLabel)) / 2,
                            y: bottomEdge + 1 + Self.tickLength + Self.labelGap + font + Self.lineGap, color: .black)
        }
        return canvas
    }

    /// The legend box: a short line in each series' colour and its name, in the corner of the
    /// plot area that covers the fewest data points (top right first on a tie).
    private func drawLegend(on canvas: inout Canvas, layout l: Layout, colors: [PlotColor]) {
        let entries = zip(series, colors).filter { !$0.0.name.isEmpty }
        guard !entries.isEmpty else { return }
        let font = BitmapFont.height(), swatch = 14, rowHeight = font + 4
        let boxWidth = 6 + swatch + 4 + (entries.map { BitmapFont.width(of: $0.0.name) }.max() ?? 0) + 6
        let boxHeight = 4 + rowHeight * entries.count
        let margin = 6
        let xs = [l.plotX + l.plotWidth - margin - boxWidth, l.plotX + margin]
        let ys = [l.plotY + margin, l.plotY + l.plotHeight - margin - boxHeight]
        let corners = [(xs[0], ys[0]), (xs[1], ys[0]), (xs[0], ys[1]), (xs[1], ys[1])]
        let pixels = series.flatMap { s in s.points.compactMap { l.pixel(x: $0.x, y: $0.y) } }
        let covered = corners.map { c in
            pixels.filter { $0.x >= c.0 && $0.x < c.0 + boxWidth && $0.y >= c.1 && $0.y < c.1 + boxHeight }.count
        }
        let best = corners[covered.firstIndex(of: covered.min()!)!]
        canvas.fillRectangle(x: best.0, y: best.1, width: boxWidth, height: boxHeight, color: .white)
        canvas.strokeRectangle(x: best.0, y: best.1, width: boxWidth, height: boxHeight, color: .darkGray)
        for (row, entry) in entries.enumerated() {
            let y = best.1 + 4 + row * rowHeight
            canvas.fillRectangle(x: best.0 + 6, y: y + font / 2 - 1, width: swatch, height: 3, color: entry.1)
            BitmapFont.draw(entry.0.name, on: &canvas, x: best.0 + 6 + swatch + 4, y: y, color: .black)
        }
    }

    /// The chart as PNG bytes.
    public func pngData() throws -> [UInt8] {
        do { return try render().image.pngData() } catch { throw CheckpointError(file: "<plot \(title)>", "PNG encoding failed: \(error)") }
    }

    /// Writes the chart as a PNG file, atomically (temporary file, fsync, rename).
    public func write(to path: String) throws {
        try DurableFile.replace(path, bytes: try pngData())
    }
}
