import FashionCharts
import FashionCore
import FashionTraining

/// The charts and report a run (or a comparison of runs) writes into its directory.
enum RunOutputs {
    static func writeCharts(for runs: [RunForReport], title: String, device: String = "CPU", to directory: String) throws {
        try AtomicFile.write(text: RunCharts.curves(runs, title: title), to: directory + "/curves.svg")
        if let weights = RunCharts.weights(runs, title: "Weights after training — " + title) {
            try AtomicFile.write(text: weights, to: directory + "/weights.svg")
        }
        if runs.count == 1, let counts = runs[0].confusion {
            try AtomicFile.write(text: RunCharts.confusion(counts, title: "Confusion matrix on the test set"), to: directory + "/confusion.svg")
        }
        try AtomicFile.write(text: RunCharts.report(runs, title: title, device: device).html(), to: directory + "/report.html")
    }
}

extension TrainingConfig {
    /// A chart title naming the setting: "Adam, lr 0.001, batch 32, scaled inputs".
    var chartTitle: String {
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
