import Foundation

/// The values of one tensor (a layer's weights or biases) in one run.
public struct TensorValues: Sendable {
    public var run: String
    public var values: [Float]
    public init(run: String, values: [Float]) {
        self.run = run
        self.values = values
    }
}

/// Histograms of each layer's weights and biases: one panel per tensor, runs overlaid with shared
/// bins, the value range on the axis — how wide the distributions get is the point.
public struct HistogramChart: Sendable {
    public var title: String
    /// Panels in order, each a tensor name (`0.weight`) and the runs' values of it.
    public var panels: [(name: String, runs: [TensorValues])]
    public var bins = 80
    public var columns = 2
    public var width = 760.0
    public var words = ChartWords.english

    public init(title: String, panels: [(name: String, runs: [TensorValues])]) {
        self.title = title
        self.panels = panels
    }

    public func svg() -> String {
        let runNames = panels.first?.runs.map(\.run) ?? []
        let legendHeight = runNames.count > 1 ? 22.0 : 0
        let panelWidth = (width - 30) / Double(columns)
        let panelHeight = 190.0
        let rows = (panels.count + columns - 1) / columns
        let top = 48 + legendHeight + (runNames.count > 1 ? 14 : 0)
        var svg = SVG(width: width, height: top + Double(rows) * (panelHeight + 62) + 6)
        svg.text(title, x: width / 2, y: 26, size: 17, anchor: .middle, weight: "bold")
        if runNames.count > 1 {
            var x = 30.0
            for (index, name) in runNames.enumerated() {
                svg.rect(x: x, y: 40, width: 14, height: 12, fill: chartPalette[index % chartPalette.count], opacity: 0.6)
                svg.text(name, x: x + 20, y: 51, size: 12)
                x += 40 + SVG.textWidth(name, size: 12)
            }
        }
        for (index, panel) in panels.enumerated() {
            let column = index % columns, row = index / columns
            drawPanel(&svg, panel: panel, left: 20 + Double(column) * panelWidth + 46, top: top + Double(row) * (panelHeight + 62),
                      width: panelWidth - 62, height: panelHeight)
        }
        return svg.render()
    }

    private func drawPanel(_ svg: inout SVG, panel: (name: String, runs: [TensorValues]), left: Double, top: Double, width: Double, height: Double) {
        let finite = panel.runs.map { $0.values.filter(\.isFinite) }
        let hidden = zip(panel.runs, finite).map { $0.values.count - $1.count }.reduce(0, +)
        let low = Double(finite.compactMap { $0.min() }.min() ?? 0)
        let high = Double(finite.compactMap { $0.max() }.max() ?? 1)
        let xAxis = Axis(covering: [low, high], tickCount: 4)
        // Shared bins over the axis range, so runs are comparable.
        let bins = max(1, min(self.bins, 10_000))
        let binWidth = (xAxis.upper - xAxis.lower) / Double(bins)
        let shares: [[Double]] = finite.map { values in
            var counts = [Double](repeating: 0, count: bins)
            for value in values {
                // Clamped as a double first: Int() of a value past Int's range would trap.
                let position = ((Double(value) - xAxis.lower) / binWidth).rounded(.down)
                let bin = position.isNaN ? 0 : Int(min(Double(bins - 1), max(0, position)))
                counts[bin] += 1
            }
            return counts.map { $0 / Double(max(1, values.count)) }
        }
        let yAxis = Axis(covering: shares.flatMap { $0 }, includeZero: true, tickCount: 4)
        func x(_ value: Double) -> Double { left + xAxis.fraction(value) * width }
        func y(_ value: Double) -> Double { top + height - yAxis.fraction(value) * height }

        let count = panel.runs.first?.values.count ?? 0
        svg.text("\(panel.name)  (\(count) values)", x: left + width / 2, y: top - 8, size: 13, anchor: .middle, weight: "bold")
        svg.rect(x: left, y: top, width: width, height: height, fill: "#fafafa", stroke: "#cccccc")
        var lastRight = -Double.infinity
        for tick in xAxis.ticks {
            let label = xAxis.label(tick)
            let labelWidth = SVG.textWidth(label, size: 11)
            svg.line(x(tick), top + height, x(tick), top + height + 4, stroke: "#888")
            if x(tick) - labelWidth / 2 > lastRight + 6 {
                svg.text(label, x: x(tick), y: top + height + 17, size: 11, anchor: .middle, fill: "#555")
                lastRight = x(tick) + labelWidth / 2
            }
        }
        for tick in yAxis.ticks {
            svg.line(left, y(tick), left + width, y(tick), stroke: "#e8e8e8")
            svg.text(yAxis.label(tick, percent: true), x: left - 6, y: y(tick) + 4, size: 10, anchor: .end, fill: "#555")
        }
        for (index, runShares) in shares.enumerated() {
            let color = chartPalette[index % chartPalette.count]
            var points: [(Double, Double)] = [(x(xAxis.lower), y(0))]
            for (bin, share) in runShares.enumerated() {
                let start = xAxis.lower + Double(bin) * binWidth
                points.append((x(start), y(share)))
                points.append((x(start + binWidth), y(share)))
            }
            points.append((x(xAxis.upper), y(0)))
            svg.polygon(points, fill: color, opacity: panel.runs.count > 1 ? 0.35 : 0.6, stroke: color)
        }
        var caption = "range \(Axis.trim(low)) … \(Axis.trim(high))"
        if hidden > 0 { caption += "; " + words.notShown(hidden) }
        svg.text(caption, x: left + width / 2, y: top + height + 34, size: 11, anchor: .middle, fill: "#444")
    }
}
