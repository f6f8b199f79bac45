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
///
/// When one run's range dwarfs another's (an exploding learning rate beside a tame one), overlaid runs would
/// squeeze the narrow ones into a single bin; each tensor then gets a panel per run on its own range, with a strip
/// under it that marks where that run's range lies within the range shared by all runs.
public struct HistogramChart: Sendable {
    public var title: String
    /// Panels in order, each a tensor name (`0.weight`) and the runs' values of it.
    public var panels: [(name: String, runs: [TensorValues])]
    public var bins = 80
    public var columns = 2
    public var width = 760.0
    public var words = ChartWords.english
    /// Runs are drawn in panels of their own when, for some tensor, the widest run's range is more than this many
    /// times the narrowest's.
    public var separateRunsAbove = 5.0

    public init(title: String, panels: [(name: String, runs: [TensorValues])]) {
        self.title = title
        self.panels = panels
    }

    /// One panel as drawn: a tensor's runs on one axis, the palette index of the first, and the range shared by
    /// every run of that tensor when the panel shows one run of several.
    private struct Cell {
        let name: String
        /// Written above the first panel of a row of separate panels: the tensor's name and size.
        var heading: String? = nil
        let runs: [TensorValues]
        let colorOffset: Int
        let shared: (low: Double, high: Double)?
    }

    /// The finite minimum and maximum of `values`, nil when none is finite.
    private static func range(_ values: [Float]) -> (low: Double, high: Double)? {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return nil }
        return (Double(low), Double(high))
    }

    /// True when some tensor's runs span ranges too different to share an axis.
    public var drawsRunsSeparately: Bool {
        panels.contains { panel in
            let widths = panel.runs.compactMap { Self.range($0.values) }.map { $0.high - $0.low }
            guard widths.count > 1, let widest = widths.max(), let narrowest = widths.min(), widest.isFinite else { return false }
            return widest > separateRunsAbove * max(narrowest, 1e-30)
        }
    }

    public func svg() -> String {
        let runNames = panels.first?.runs.map(\.run) ?? []
        let separate = drawsRunsSeparately
        let cells: [Cell] = separate
            ? panels.flatMap { panel -> [Cell] in
                let ranges = panel.runs.compactMap { Self.range($0.values) }
                let shared = (low: ranges.map(\.low).min() ?? 0, high: ranges.map(\.high).max() ?? 1)
                let count = panel.runs.first?.values.count ?? 0
                return panel.runs.enumerated().map { index, run in
                    Cell(name: run.run, heading: index % 3 == 0 ? "\(panel.name)  (\(count) values)" : nil, runs: [run],
                         colorOffset: index, shared: shared)
                }
            }
            : panels.map { Cell(name: $0.name, runs: $0.runs, colorOffset: 0, shared: nil) }
        // Separate panels: a row per tensor, a column per run (up to three to a row).
        let columns = separate ? max(1, min(3, runNames.count)) : self.columns
        let legendHeight = runNames.count > 1 ? 22.0 : 0
        let panelWidth = (width - 30) / Double(columns)
        let panelHeight = separate ? 150.0 : 190.0
        let below = separate ? 112.0 : 62.0
        let rows = separate
            ? panels.count * ((runNames.count + columns - 1) / columns)
            : (cells.count + columns - 1) / columns
        let top = 48 + legendHeight + (runNames.count > 1 ? 14 : 0) + (separate ? 16 : 0)
        var svg = SVG(width: width, height: top + Double(rows) * (panelHeight + below) + 6)
        svg.text(title, x: width / 2, y: 26, size: 17, anchor: .middle, weight: "bold")
        if runNames.count > 1 {
            var x = 30.0
            for (index, name) in runNames.enumerated() {
                svg.rect(x: x, y: 40, width: 14, height: 12, fill: chartPalette[index % chartPalette.count], opacity: 0.6)
                svg.text(name, x: x + 20, y: 51, size: 12)
                x += 40 + SVG.textWidth(name, size: 12)
            }
        }
        for (index, cell) in cells.enumerated() {
            // Separate panels start each tensor on a new row.
            let (row, column) = separate
                ? ((index / runNames.count) * ((runNames.count + columns - 1) / columns) + (index % runNames.count) / columns,
                   (index % runNames.count) % columns)
                : (index / columns, index % columns)
            drawPanel(&svg, cell, left: 20 + Double(column) * panelWidth + 46, top: top + Double(row) * (panelHeight + below),
                      width: panelWidth - 62, height: panelHeight)
        }
        return svg.render()
    }

    private func drawPanel(_ svg: inout SVG, _ cell: Cell, left: Double, top: Double, width: Double, height: Double) {
        let finite = cell.runs.map { $0.values.filter(\.isFinite) }
        let hidden = zip(cell.runs, finite).map { $0.values.count - $1.count }.reduce(0, +)
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

        let count = cell.runs.first?.values.count ?? 0
        if let heading = cell.heading {
            svg.text(heading, x: left - 46, y: top - 28, size: 14, weight: "bold")
            svg.text(cell.name, x: left + width / 2, y: top - 8, size: 12, anchor: .middle)
        } else if cell.shared != nil {
            svg.text(cell.name, x: left + width / 2, y: top - 8, size: 12, anchor: .middle)
        } else {
            svg.text("\(cell.name)  (\(count) values)", x: left + width / 2, y: top - 8, size: 13, anchor: .middle, weight: "bold")
        }
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
            let color = chartPalette[(cell.colorOffset + index) % chartPalette.count]
            var points: [(Double, Double)] = [(x(xAxis.lower), y(0))]
            for (bin, share) in runShares.enumerated() {
                let start = xAxis.lower + Double(bin) * binWidth
                points.append((x(start), y(share)))
                points.append((x(start + binWidth), y(share)))
            }
            points.append((x(xAxis.upper), y(0)))
            svg.polygon(points, fill: color, opacity: cell.runs.count > 1 ? 0.35 : 0.6, stroke: color)
        }
        var caption = "range \(Axis.trim(low)) … \(Axis.trim(high))"
        if hidden > 0 { caption += "; " + words.notShown(hidden) }
        svg.text(caption, x: left + width / 2, y: top + height + 34, size: 11, anchor: .middle, fill: "#444")
        if let shared = cell.shared { drawSharedRange(&svg, shared, run: (low, high), colorIndex: cell.colorOffset,
                                                      left: left, top: top + height + 44, width: width) }
    }

    /// A strip for the range shared by every run (gray, the full width) with this run's part of it in the run's
    /// colour, and the shared range's ends written under it.
    private func drawSharedRange(_ svg: inout SVG, _ shared: (low: Double, high: Double), run: (low: Double, high: Double),
                                 colorIndex: Int, left: Double, top: Double, width: Double) {
        let span = shared.high - shared.low
        func x(_ value: Double) -> Double {
            guard span.isFinite, span > 0 else { return left }
            return left + min(1, max(0, (value - shared.low) / span)) * width
        }
        svg.rect(x: left, y: top, width: width, height: 6, fill: "#dddddd")
        let start = x(run.low)
        svg.rect(x: start, y: top, width: max(2, x(run.high) - start), height: 6,
                 fill: chartPalette[colorIndex % chartPalette.count], opacity: 0.8)
        svg.text(words.sharedRange(Axis.trim(shared.low), Axis.trim(shared.high)), x: left + width / 2, y: top + 20,
                 size: 11, anchor: .middle, fill: "#444")
    }
}
