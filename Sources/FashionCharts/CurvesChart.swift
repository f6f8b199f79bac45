import Foundation

/// The per-epoch numbers of one run, as a chart draws them. Non-finite values (a diverged run)
/// are drawn as gaps with a marker.
public struct RunCurves: Sendable {
    public var label: String
    public var trainLoss: [Double]
    public var validationLoss: [Double]
    public var trainAccuracy: [Double]
    public var validationAccuracy: [Double]
    /// The best epoch by the run's monitor (1-based), ringed on the validation curves; nil for none.
    public var bestEpoch: Int?
    /// The training loss logged every few steps (`--log-every`): (epoch, loss), drawn as a thin line.
    public var stepLosses: [(epoch: Double, loss: Double)] = []
    /// Per epoch, the range of the validation curves over several seeds, drawn as a band (empty for none).
    public var validationLossBand: [(low: Double, high: Double)] = []
    public var validationAccuracyBand: [(low: Double, high: Double)] = []

    public init(label: String, trainLoss: [Double], validationLoss: [Double], trainAccuracy: [Double], validationAccuracy: [Double],
                bestEpoch: Int? = nil, stepLosses: [(epoch: Double, loss: Double)] = []) {
        self.label = label
        self.bestEpoch = bestEpoch
        self.stepLosses = stepLosses
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.trainAccuracy = trainAccuracy
        self.validationAccuracy = validationAccuracy
    }

    var epochs: Int { max(trainLoss.count, validationLoss.count, trainAccuracy.count, validationAccuracy.count) }
}

/// Colours for runs compared on one chart (Tableau 10, readable on white and in print).
public let chartPalette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

/// Loss over epochs above accuracy over epochs, as in the notebook: training as dots, validation as a
/// line (blue and red for a single run; one colour per run when runs are compared), integer epoch ticks,
/// a percent axis for accuracy, a title that names the setting and a legend.
public struct CurvesChart: Sendable {
    public var title: String
    public var runs: [RunCurves]
    public var width = 760.0
    /// Words on the chart, for other languages.
    public var words = ChartWords.english

    public init(title: String, runs: [RunCurves]) {
        self.title = title
        self.runs = runs
    }

    struct Series {
        let values: [Double]
        let color: String
        let dots: Bool
        let label: String
        /// The epoch ringed as the best one (validation series).
        var best: Int?
        /// A range per epoch, drawn as a band behind the line.
        var band: [(low: Double, high: Double)] = []
    }

    public func svg() -> String {
        let single = runs.count == 1
        let colors = runs.indices.map { single ? chartPalette[0] : chartPalette[$0 % chartPalette.count] }
        let validationColors = runs.indices.map { single ? chartPalette[1] : colors[$0] }

        // Legend: one entry per series kind and run, wrapped to the width.
        var legend: [(label: String, color: String, dots: Bool)] = []
        if single {
            legend = [(words.training, colors[0], true), (words.validation, validationColors[0], false)]
        } else {
            legend = runs.indices.map { (runs[$0].label, colors[$0], false) }
        }
        let left = 72.0, right = 24.0
        var legendRows: [[(label: String, color: String, dots: Bool, x: Double)]] = [[]]
        var cursor = left
        for item in legend {
            let itemWidth = 26 + SVG.textWidth(item.label, size: 12) + 18
            if cursor + itemWidth > width - right, !legendRows[legendRows.count - 1].isEmpty {
                legendRows.append([])
                cursor = left
            }
            legendRows[legendRows.count - 1].append((item.label, item.color, item.dots, cursor))
            cursor += itemWidth
        }
        let styleKeyRow = single ? 0 : 1
        let legendTop = 46.0
        let legendHeight = Double(legendRows.count + styleKeyRow) * 18
        let panelHeight = 220.0, panelGap = 58.0
        let lossTop = legendTop + legendHeight + 14
        let accuracyTop = lossTop + panelHeight + panelGap

        let epochs = max(1, runs.map(\.epochs).max() ?? 1)
        let diverged = runs.enumerated().compactMap { index, run -> (Int, Int)? in
            let firstBad = run.trainLoss.firstIndex { !$0.isFinite }
            return firstBad.map { (index, $0 + 1) }
        }
        let noteLines = diverged.count
        let height = accuracyTop + panelHeight + 46 + Double(noteLines) * 17 + 8
        var svg = SVG(width: width, height: height)
        svg.text(title, x: width / 2, y: 26, size: 17, anchor: .middle, weight: "bold")

        for (row, items) in legendRows.enumerated() {
            let y = legendTop + Double(row) * 18
            for item in items {
                if item.dots {
                    svg.circle(item.x + 10, y - 4, radius: 4, fill: item.color)
                } else {
                    svg.line(item.x, y - 4, item.x + 20, y - 4, stroke: item.color, width: 2.5)
                }
                svg.text(item.label, x: item.x + 26, y: y, size: 12)
            }
        }
        if !single {
            let y = legendTop + Double(legendRows.count) * 18
            svg.circle(left + 10, y - 4, radius: 3.5, fill: "#555")
            svg.text(words.trainingDots, x: left + 26, y: y, size: 12, fill: "#555")
            let x = left + 40 + SVG.textWidth(words.trainingDots, size: 12)
            svg.line(x, y - 4, x + 20, y - 4, stroke: "#555", width: 2.5)
            svg.text(words.validationLine, x: x + 26, y: y, size: 12, fill: "#555")
        }

        let frameWidth = width - left - right
        let fromZero = runs.contains { !$0.stepLosses.isEmpty }
        func series(_ pick: (RunCurves) -> [Double], validation: Bool) -> [Series] {
            runs.indices.map { i in
                Series(values: pick(runs[i]), color: validation ? validationColors[i] : colors[i], dots: !validation, label: runs[i].label,
                       best: validation ? runs[i].bestEpoch : nil)
            }
        }
        func withBands(_ series: [Series], _ band: (RunCurves) -> [(low: Double, high: Double)]) -> [Series] {
            series.enumerated().map { index, item in
                guard !item.dots else { return item }
                var banded = item
                banded.band = band(runs[index % runs.count])
                return banded
            }
        }
        let lossSeries = series(\.trainLoss, validation: false) + withBands(series(\.validationLoss, validation: true), \.validationLossBand)
        let bandValues = { (series: [Series]) in series.flatMap { $0.band.flatMap { [$0.low, $0.high] } } }
        let lossValues = (lossSeries.flatMap(\.values) + bandValues(lossSeries) + runs.flatMap { $0.stepLosses.map(\.loss) }).filter { $0.isFinite }
        let positive = lossValues.filter { $0 > 0 }
        let useLog = (positive.max() ?? 1) / max(positive.min() ?? 1, 1e-12) > 100 && positive.count == lossValues.count
        let lossAxis = Axis(covering: lossValues, logarithmic: useLog, includeZero: !useLog)
        drawPanel(&svg, top: lossTop, left: left, width: frameWidth, height: panelHeight, epochs: epochs,
                  axis: lossAxis, yLabel: useLog ? words.lossLog : words.loss, percent: false, series: lossSeries, diverged: diverged,
                  steps: runs.indices.map { (runs[$0].stepLosses, colors[$0]) }, fromZero: fromZero)

        let accuracySeries = series(\.trainAccuracy, validation: false) + withBands(series(\.validationAccuracy, validation: true), \.validationAccuracyBand)
        var accuracyAxis = Axis(covering: accuracySeries.flatMap(\.values) + bandValues(accuracySeries))
        if accuracyAxis.upper > 1 || accuracyAxis.lower < 0 {
            accuracyAxis = Axis(lower: max(0, accuracyAxis.lower), upper: min(1, accuracyAxis.upper),
                                ticks: accuracyAxis.ticks.filter { $0 >= 0 && $0 <= 1 })
        }
        drawPanel(&svg, top: accuracyTop, left: left, width: frameWidth, height: panelHeight, epochs: epochs,
                  axis: accuracyAxis, yLabel: words.accuracy, percent: true, series: accuracySeries, diverged: diverged, fromZero: fromZero)
        svg.text(words.epoch, x: left + frameWidth / 2, y: accuracyTop + panelHeight + 38, size: 13, anchor: .middle)

        for (line, (runIndex, epoch)) in diverged.enumerated() {
            let y = accuracyTop + panelHeight + 62 + Double(line) * 17
            drawCross(&svg, left + 6, y - 4, color: colors[runIndex])
            svg.text(words.divergedNote(runs[runIndex].label, epoch), x: left + 18, y: y, size: 12, fill: "#444")
        }
        return svg.render()
    }

    private func drawCross(_ svg: inout SVG, _ x: Double, _ y: Double, color: String) {
        svg.line(x - 5, y - 5, x + 5, y + 5, stroke: color, width: 2.5)
        svg.line(x - 5, y + 5, x + 5, y - 5, stroke: color, width: 2.5)
    }

    private func drawPanel(_ svg: inout SVG, top: Double, left: Double, width: Double, height: Double, epochs: Int,
                           axis: Axis, yLabel: String, percent: Bool, series: [Series], diverged: [(Int, Int)],
                           steps: [([(epoch: Double, loss: Double)], String)] = [], fromZero: Bool = false) {
        let padding = epochs == 1 ? 0.5 : 0.25
        // With logged steps the axis starts at epoch 0, where training starts.
        let xLow = fromZero ? 0 : 1 - padding, xHigh = Double(epochs) + padding
        func x(_ epoch: Int) -> Double { left + (Double(epoch) - xLow) / (xHigh - xLow) * width }
        func y(_ value: Double) -> Double { top + height - axis.fraction(value) * height }

        svg.rect(x: left, y: top, width: width, height: height, fill: "#fafafa", stroke: "#cccccc")
        var lastLabelY = Double.infinity
        for tick in axis.ticks {
            let ty = y(tick)
            svg.line(left, ty, left + width, ty, stroke: "#e3e3e3")
            if lastLabelY - ty >= 14 {
                svg.text(axis.label(tick, percent: percent), x: left - 8, y: ty + 4, size: 11, anchor: .end, fill: "#555")
                lastLabelY = ty
            }
        }
        // Integer epoch ticks, thinned so labels never overlap.
        let labelWidth = SVG.textWidth(String(epochs), size: 11) + 10
        let every = max(1, Int((Double(epochs) * labelWidth / width).rounded(.up)))
        let step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 500].first { $0 >= every } ?? every
        for epoch in 1...epochs where epoch == 1 || epoch % step == 0 {
            svg.line(x(epoch), top + height, x(epoch), top + height + 4, stroke: "#888")
            svg.text(String(epoch), x: x(epoch), y: top + height + 17, size: 11, anchor: .middle, fill: "#555")
        }
        svg.text(yLabel, x: left - 52, y: top + height / 2, size: 13, anchor: .middle, rotate: -90)

        // Logged step losses first, thin and light, under the epochs' points.
        func x(fraction epoch: Double) -> Double { left + (epoch - xLow) / (xHigh - xLow) * width }
        for (points, color) in steps where !points.isEmpty {
            let line = points.filter { $0.loss.isFinite && $0.epoch >= 0 && $0.epoch <= Double(epochs) }
                .map { (x(fraction: $0.epoch), y(min(max($0.loss, axis.lower), axis.upper))) }
            svg.polyline(line, stroke: color + "80", width: 1)
        }
        // Bands (the spread over seeds) behind every line.
        for item in series where !item.band.isEmpty {
            let finite = item.band.enumerated().filter { $0.element.low.isFinite && $0.element.high.isFinite }
            let clamp = { (v: Double) in min(max(v, axis.lower), axis.upper) }
            if finite.count == 1, let only = finite.first {
                // One epoch: the range as an error bar.
                let (bx, low, high) = (x(only.offset + 1), y(clamp(only.element.low)), y(clamp(only.element.high)))
                svg.line(bx, low, bx, high, stroke: item.color, width: 2)
                svg.line(bx - 5, low, bx + 5, low, stroke: item.color, width: 2)
                svg.line(bx - 5, high, bx + 5, high, stroke: item.color, width: 2)
                continue
            }
            guard finite.count >= 2 else { continue }
            let upper = finite.map { (x($0.offset + 1), y(clamp($0.element.high))) }
            let lower = finite.reversed().map { (x($0.offset + 1), y(clamp($0.element.low))) }
            svg.polygon(upper + lower, fill: item.color, opacity: 0.18, stroke: "none")
        }
        for item in series {
            var segment: [(Double, Double)] = []
            func flush() {
                if segment.count == 1, !item.dots { svg.circle(segment[0].0, segment[0].1, radius: 2.5, fill: item.color) }
                svg.polyline(segment, stroke: item.color, width: 2.5)
                segment = []
            }
            for (index, value) in item.values.enumerated() {
                guard value.isFinite else { flush(); continue }
                let point = (x(index + 1), y(min(max(value, axis.lower), axis.upper)))
                if item.dots {
                    let shown = percent ? Axis.trim((value * 1000).rounded() / 10) + "%" : String(format: "%.4g", value)
                    svg.circle(point.0, point.1, radius: 4, fill: item.color, stroke: "#ffffff",
                               title: "\(item.label), epoch \(index + 1): \(shown)")
                } else {
                    segment.append(point)
                }
            }
            flush()
            if let best = item.best, item.values.indices.contains(best - 1), item.values[best - 1].isFinite {
                let value = item.values[best - 1]
                svg.circle(x(best), y(min(max(value, axis.lower), axis.upper)), radius: 7, fill: "none", stroke: item.color,
                           title: "\(item.label): best epoch \(best)")
            }
        }
        for (runIndex, epoch) in diverged {
            drawCross(&svg, x(epoch), top + 9, color: series[runIndex].color)
        }
    }
}

/// The words a chart prints, so a report can be written in another language.
public struct ChartWords: Sendable {
    public var training: String
    public var validation: String
    public var trainingDots: String
    public var validationLine: String
    public var loss: String
    public var lossLog: String
    public var accuracy: String
    public var epoch: String
    public var count: String
    public var share: String
    public var truePredicted: (String, String)
    public var divergedNote: @Sendable (String, Int) -> String
    public var notShown: @Sendable (Int) -> String
    /// Under a histogram panel of one run, beside a bar that marks the run's part of it: the range all runs' values span.
    public var sharedRange: @Sendable (String, String) -> String

    /// The charts' words in `l`.
    public init(_ l: Language) {
        training = l.t("training", "huấn luyện")
        validation = l.t("validation", "kiểm định")
        trainingDots = l.t("dots: training", "chấm: huấn luyện")
        validationLine = l.t("line: validation", "đường: kiểm định")
        loss = l.t("loss", "hàm mất mát")
        lossLog = l.t("loss (log scale)", "hàm mất mát (thang log)")
        accuracy = l.t("accuracy", "độ chính xác")
        epoch = "epoch"
        count = l.t("count", "số lượng")
        share = l.t("share of values", "tỉ lệ giá trị")
        truePredicted = l.t(("true class", "predicted class"), ("lớp thật", "lớp dự đoán"))
        divergedNote = { run, epoch in
            l.t("\(run): diverged in epoch \(epoch) (loss NaN or infinite); non-finite values are not drawn and training stopped there",
                "\(run): phân kỳ ở epoch \(epoch) (mất mát NaN hoặc vô hạn); các điểm sau không được vẽ")
        }
        notShown = { l.t("\($0) non-finite values not shown", "\($0) giá trị không hữu hạn không được vẽ") }
        sharedRange = { l.t("in all runs: \($0) … \($1)", "mọi lần chạy: \($0) … \($1)") }
    }

    public static let english = ChartWords(.english)
}
