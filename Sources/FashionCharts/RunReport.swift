import Foundation
import FashionCore
import FashionData
import FashionEngine
import FashionTraining

/// One run as the charts and the report show it.
public struct RunForReport {
    public var label: String
    public var history: TrainingHistory
    public var model: Sequential?
    /// counts[true][predicted] on the test set, if measured.
    public var confusion: [[Int]]?

    public init(label: String, history: TrainingHistory, model: Sequential?, confusion: [[Int]]? = nil) {
        self.label = label
        self.history = history
        self.model = model
        self.confusion = confusion
    }

    /// The per-epoch numbers as a chart draws them.
    public var curves: RunCurves {
        let epochs = history.epochs
        return RunCurves(label: label, trainLoss: epochs.map(\.trainLoss),
                         validationLoss: epochs.map { $0.validationLoss ?? .nan },
                         trainAccuracy: epochs.map(\.trainAccuracy),
                         validationAccuracy: epochs.map { $0.validationAccuracy ?? .nan }, bestEpoch: history.bestEpoch,
                         stepLosses: history.steps.map { ($0.epoch, $0.loss) })
    }
}

/// Charts and report pages for runs.
public enum RunCharts {
    /// Training curves of `runs` on one chart.
    public static func curves(_ runs: [RunForReport], title: String, words: ChartWords = .english) -> String {
        var chart = CurvesChart(title: title, runs: runs.map(\.curves))
        chart.words = words
        return chart.svg()
    }

    /// Histograms of every parameter tensor, runs overlaid (runs without a model are left out).
    public static func weights(_ runs: [RunForReport], title: String, words: ChartWords = .english) -> String? {
        let withModels = runs.filter { $0.model != nil }
        guard let first = withModels.first?.model else { return nil }
        let panels = first.parameters.map { parameter in
            (name: parameter.name, runs: withModels.map { run in
                TensorValues(run: run.label, values: run.model!.parameters.first { $0.name == parameter.name }?.value.toArray() ?? [])
            })
        }
        var chart = HistogramChart(title: title, panels: panels)
        chart.words = words
        return chart.svg()
    }

    /// The confusion matrix of one run.
    public static func confusion(_ counts: [[Int]], title: String, words: ChartWords = .english) -> String {
        var chart = ConfusionMatrixChart(title: title, classNames: FashionMNIST.classNames, counts: counts)
        chart.words = words
        return chart.svg()
    }

    /// The environment section every report ends with.
    public static func environmentSection(device: String, heading: String = "Environment") -> ReportSection {
        var section = ReportSection(id: "environment", heading: heading)
        let date = ISO8601DateFormatter().string(from: Date())
        section.facts = [
            ("CPU", MachineDescription.cpuModel), ("Resources", MachineDescription.resources),
            ("System", MachineDescription.system), ("Device", device), ("GEMM", BLAS.shared.summary),
            ("Threads", String(Threads.count)), ("FashionLab", FashionLabVersion.current), ("Date", date),
        ]
        return section
    }

    /// A table row per run: configuration, final metrics and time.
    public static func metricsTable(_ runs: [RunForReport]) -> (headers: [String], rows: [[String]]) {
        let headers = ["run", "epochs", "train loss", "train acc", "val loss", "val acc", "train time", "status"]
        let rows = runs.map { run -> [String] in
            let last = run.history.last
            let seconds = run.history.epochs.reduce(0) { $0 + $1.trainSeconds + $1.evaluationSeconds }
            return [
                run.label, String(run.history.epochs.count),
                last.map { format($0.trainLoss) } ?? "–", last.map { percent($0.trainAccuracy) } ?? "–",
                last?.validationLoss.map(format) ?? "–", last?.validationAccuracy.map(percent) ?? "–",
                String(format: "%.1f s", seconds),
                run.history.diverged ? "diverged" : (run.history.stoppedEarly ? "stopped early" : "finished"),
            ]
        }
        return (headers, rows)
    }

    /// A report page for one or more runs (`fashionlab train`, `fashionlab plot`).
    public static func report(_ runs: [RunForReport], title: String, device: String = "CPU") -> ReportPage {
        var page = ReportPage(title: title, subtitle: "FashionLab \(FashionLabVersion.current) · Fashion-MNIST")
        var summary = ReportSection(id: "summary", heading: "Results")
        summary.table = metricsTable(runs)
        for run in runs {
            for line in run.history.validationOutcome { summary.paragraphs.append(.text(runs.count == 1 ? line : "\(run.label): \(line)")) }
        }
        for run in runs where run.history.diverged {
            summary.paragraphs.append(.warning("\(run.label) diverged: its loss became NaN or infinite in epoch \(run.history.epochs.count), and training stopped there."))
        }
        page.sections.append(summary)

        var curves = ReportSection(id: "curves", heading: "Training curves")
        var caption = "Loss (top) and accuracy (bottom) after each epoch: training as dots, validation as a line; a ring marks the best epoch."
        if runs.contains(where: { !$0.history.steps.isEmpty }) { caption += " The thin line is the training loss logged every few steps (--log-every)." }
        let running = runs.filter { $0.history.config.trainingMetrics == .batches }.map(\.label)
        if !running.isEmpty {
            caption += " Training accuracy of \(running.joined(separator: ", ")) is the running mean over each epoch's batches, measured while training (dropout on, weights changing), not a separate pass."
        }
        curves.figures.append(.svg(Self.curves(runs, title: title), caption: caption))
        page.sections.append(curves)

        if let weights = Self.weights(runs, title: "Weight distributions") {
            var section = ReportSection(id: "weights", heading: "Weights after training")
            section.figures.append(.svg(weights, caption: "Histograms of each layer's weights and biases after the last epoch."))
            page.sections.append(section)
        }
        for run in runs {
            guard let counts = run.confusion else { continue }
            var section = ReportSection(id: "confusion-\(run.label)", heading: "Confusion matrix — \(run.label)")
            section.figures.append(.svg(confusion(counts, title: "Test set: \(run.label)"), caption: "Rows are true classes, columns predicted ones; counts out of 1,000 test images per class."))
            page.sections.append(section)
        }
        var configuration = ReportSection(id: "configuration", heading: "Configuration")
        configuration.table = (["run", "configuration"], runs.map { [$0.label, $0.history.config.summary] })
        page.sections.append(configuration)
        page.sections.append(environmentSection(device: device))
        return page
    }

    static func format(_ value: Double) -> String { value.isFinite ? String(format: "%.4f", value) : (value.isNaN ? "NaN" : "∞") }
    static func percent(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }
}
