import Foundation
import FashionCore
import FashionData
import FashionEngine
import FashionImaging
import FashionTraining

/// The files a run, a comparison of runs or an evaluation writes into its directory.
public enum RunArtifacts {
    /// Saves a run that has stopped: `metrics.json`, `metrics.csv` and `model.safetensors` always; when it was not
    /// interrupted, also the confusion matrix on `test` and `curves.svg`, `weights.svg`, `confusion.svg` and
    /// `report.html`. An interrupted run gets no charts: it is to be resumed, and its files are then written again.
    public static func saveFinished(history: TrainingHistory, model: Sequential, test: Dataset, device: String = "CPU",
                                    to directory: String) throws {
        try RunDirectory.save(history: history, model: model, to: directory)
        guard !history.interrupted else { return }
        let config = history.config
        let confusion = model.confusionMatrix(on: test, encoding: config.encoding, batchSize: config.effectiveEvaluationBatchSize)
        let run = RunForReport(label: URL(fileURLWithPath: directory).lastPathComponent, history: history, model: model, confusion: confusion)
        try writeCharts(for: [run], title: config.chartTitle, device: device, to: directory)
    }

    /// `curves.svg`, `weights.svg` (when a run has its model), `confusion.svg` (one run with its confusion matrix)
    /// and `report.html` for `runs` on shared charts.
    public static func writeCharts(for runs: [RunForReport], title: String, device: String = "CPU", to directory: String) throws {
        try AtomicFile.write(text: RunCharts.curves(runs, title: title), to: directory + "/" + RunDirectory.curvesChart)
        if let weights = RunCharts.weights(runs, title: "Weights after training — " + title) {
            try AtomicFile.write(text: weights, to: directory + "/" + RunDirectory.weightsChart)
        }
        if runs.count == 1, let counts = runs[0].confusion {
            try AtomicFile.write(text: RunCharts.confusion(counts, title: "Confusion matrix on the test set"), to: directory + "/" + RunDirectory.confusionChart)
        }
        try AtomicFile.write(text: RunCharts.report(runs, title: title, device: device).html(), to: directory + "/" + RunDirectory.reportPage)
    }

    /// The files of an evaluation: `confusion.svg`, `confusion.txt`, `misclassified.png` (the report's most confident
    /// mistakes, taken from `dataset`, the images it was measured on, each labelled with ``mistakeLabel(_:)``) and
    /// `evaluation.json`.
    public static func writeEvaluation(_ report: EvaluationReport, dataset: Dataset, to directory: String) throws {
        let shown = report.misclassifiedShown
        let grid = LabelledGrid.render(shown.map { dataset.image($0.index) }, labels: shown.map(mistakeLabel), scale: 4)
        try AtomicFile.write(text: RunCharts.confusion(report.confusion, title: "Confusion matrix on the test set"), to: directory + "/" + RunDirectory.confusionChart)
        try AtomicFile.write(text: report.confusionTable, to: directory + "/" + RunDirectory.confusionTable)
        try AtomicFile.write(PNG.encode(grid), to: directory + "/" + RunDirectory.misclassifiedPicture)
        let encoder = NonFiniteJSON.encoder([.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Array(try encoder.encode(report)), to: directory + "/" + RunDirectory.evaluationFile)
    }

    /// A mistake's label in `misclassified.png`, a line each: its class, what the model took it for, and the
    /// probability the model gave that class (`"is Shirt\nas T-shirt/top\n97% sure"`).
    public static func mistakeLabel(_ mistake: EvaluationReport.Mistake) -> String {
        let names = FashionMNIST.classNames
        let percent = mistake.confidence.isFinite ? "\(Int((Double(mistake.confidence) * 100).rounded()))%" : "\(mistake.confidence)"
        return "is \(names[mistake.trueClass])\nas \(names[mistake.predicted])\n\(percent) sure"
    }
}

extension TrainingConfig {
    /// A chart title naming the setting: "Adam, lr 0.001, batch 32, scaled inputs".
    public var chartTitle: String {
        let name = ["sgd": "SGD", "adam": "Adam", "adamw": "AdamW"][optimizer.rawValue] ?? optimizer.rawValue
        let network = switch model {
        case .mlp: ""
        case .custom: "\(self.network), "
        case .cnn, .cnnLarge: "\(model.rawValue.uppercased()), "
        }
        let rate = schedule == .constant ? "lr \(learningRate)" : "lr \(learningRate) (\(schedule))"
        let inputs = normalization != nil ? "normalised" : scale ? "scaled" : "unscaled"
        return "\(network)\(name), \(rate), batch \(batchSize), \(inputs) inputs"
    }
}
