import Foundation
import FashionTraining

/// The learning-rate range test as fastai draws it: the loss against the rate on a log axis, each step's loss as
/// a faint dot and the smoothed loss as a line, the two suggested rates marked.
public struct LearningRateChart: Sendable {
    public var title: String
    public var result: LearningRateFinder.Result
    public var width = 760.0
    public var height = 440.0

    public init(title: String, result: LearningRateFinder.Result) {
        self.title = title
        self.result = result
    }

    public func svg() -> String {
        var svg = SVG(width: width, height: height)
        svg.text(title, x: width / 2, y: 24, size: 16, anchor: .middle, weight: "bold")
        let (left, top, right, bottom) = (80.0, 50.0, 30.0, 70.0)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let points = result.points
        let xAxis = Axis(covering: points.map { Double($0.learningRate) }, logarithmic: true)
        // The loss axis reaches a little above the starting loss: the exploded steps would flatten everything else.
        let smoothed = points.map(\.smoothedLoss).filter(\.isFinite)
        let ceiling = 1.5 * max(smoothed.first ?? 1, smoothed.min() ?? 1)
        let yAxis = Axis(covering: (smoothed + points.map(\.loss).filter(\.isFinite)).map { min($0, ceiling) }, includeZero: true)
        func x(_ rate: Double) -> Double { left + xAxis.fraction(rate) * plotWidth }
        func y(_ loss: Double) -> Double { top + plotHeight - yAxis.fraction(min(max(loss, yAxis.lower), yAxis.upper)) * plotHeight }

        svg.rect(x: left, y: top, width: plotWidth, height: plotHeight, fill: "#fafafa", stroke: "#cccccc")
        for tick in yAxis.ticks {
            svg.line(left, y(tick), left + plotWidth, y(tick), stroke: "#e3e3e3")
            svg.text(yAxis.label(tick), x: left - 8, y: y(tick) + 4, size: 11, anchor: .end, fill: "#555")
        }
        for tick in xAxis.ticks {
            svg.line(x(tick), top + plotHeight, x(tick), top + plotHeight + 4, stroke: "#888")
            svg.text(xAxis.label(tick), x: x(tick), y: top + plotHeight + 17, size: 11, anchor: .middle, fill: "#555")
        }
        svg.text("learning rate (log scale)", x: left + plotWidth / 2, y: top + plotHeight + 38, size: 13, anchor: .middle)
        svg.text("training loss", x: left - 52, y: top + plotHeight / 2, size: 13, anchor: .middle, rotate: -90)

        for point in points where point.loss.isFinite {
            svg.circle(x(Double(point.learningRate)), y(point.loss), radius: 2, fill: "#aec7e8")
        }
        var segment: [(Double, Double)] = []
        for point in points {
            guard point.smoothedLoss.isFinite else { break }
            segment.append((x(Double(point.learningRate)), y(point.smoothedLoss)))
        }
        svg.polyline(segment, stroke: chartPalette[0], width: 2.5)

        // The suggestions: a vertical line each, named in a legend row under the axis.
        let legendY = top + plotHeight + 58
        var legendX = left + 10
        for (name, rate, color) in [("steepest descent", result.steepest, chartPalette[1]), ("minimum ÷ 10", result.minimumDividedBy10, chartPalette[2])] {
            guard let rate else { continue }
            svg.line(x(Double(rate)), top, x(Double(rate)), top + plotHeight, stroke: color, width: 2)
            let label = "\(name): \(String(format: "%.3g", rate))"
            svg.line(legendX, legendY - 4, legendX + 20, legendY - 4, stroke: color, width: 2)
            svg.text(label, x: legendX + 26, y: legendY, size: 12, fill: "#444")
            legendX += 46 + SVG.textWidth(label, size: 12)
        }
        return svg.render()
    }
}
