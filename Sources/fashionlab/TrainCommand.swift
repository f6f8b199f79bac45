import ArgumentParser
import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionTraining
import Foundation

/// `fashionlab train`: one run, with a line per epoch, metrics and a checkpoint.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one model on Fashion-MNIST and save its metrics and checkpoint.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var options: TrainingOptions

    @Option(help: ArgumentHelp("Directory for metrics.json, metrics.csv and model.safetensors.", valueName: "DIR"))
    var out: String?

    @Flag(help: "Print nothing but errors (and the JSON with --json).")
    var quiet = false

    @Flag(help: "Print each epoch's metrics as one JSON line on standard output.")
    var json = false

    func validate() throws { try options.validate() }

    func run() throws {
        options.applyThreads()
        let config = options.config
        let data = try dataOptions.load(quiet: quiet || json)
        guard config.batchSize <= data.train.count else {
            throw ValidationError("--batch-size \(config.batchSize) is larger than the \(data.train.count) training images")
        }
        let directory = out ?? "runs/" + options.defaultRunName
        let trainer = Trainer(config: config, train: data.train, validation: data.test)
        if !quiet && !json {
            print("Training \(config.summary)")
            print("Backend: CPU, BLAS \(BLAS.shared.description), \(Threads.count) threads")
        }
        let reporter = EpochReporter(quiet: quiet, json: json)
        let history = trainer.run(observer: reporter)
        Terminal.endBar()
        try RunDirectory.save(history: history, model: trainer.model, to: directory)
        let confusion = trainer.model.confusionMatrix(on: data.test, scale: config.scale)
        let run = RunForReport(label: options.defaultRunName, history: history, model: trainer.model, confusion: confusion)
        try RunOutputs.writeCharts(for: [run], title: config.chartTitle, to: directory)
        if history.diverged {
            let value = history.last.map { $0.trainLoss.isNaN ? "NaN" : "infinite" } ?? "NaN"
            Terminal.note("Diverged: the training loss became \(value) in epoch \(history.epochs.count); training stopped there and the metrics so far are saved. A smaller --lr (or scaled inputs) may help.")
        }
        if !quiet && !json {
            print("Saved metrics.json, metrics.csv, model.safetensors, curves.svg, weights.svg, confusion.svg and report.html in \(directory)")
        }
    }
}

/// Prints a line per epoch and draws a progress bar while an epoch runs.
final class EpochReporter: TrainingObserver {
    let quiet: Bool
    let json: Bool
    private var lastDraw = DispatchTime.now()

    init(quiet: Bool, json: Bool) {
        self.quiet = quiet
        self.json = json
    }

    func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) {
        guard !quiet, Terminal.stderrIsTerminal else { return }
        let now = DispatchTime.now()
        guard now.uptimeNanoseconds - lastDraw.uptimeNanoseconds > 100_000_000 || index == count - 1 else { return }
        lastDraw = now
        Terminal.drawBar("epoch \(trainer.history.epochs.count + 1)/\(trainer.config.epochs)",
                         fraction: Double(index + 1) / Double(count), detail: String(format: "loss %.4f", loss))
    }

    func trainer(_ trainer: Trainer, didFinishEpoch metrics: EpochMetrics) -> TrainingDecision {
        Terminal.endBar()
        if json {
            try? Terminal.printJSON(metrics)
        } else if !quiet {
            print(EpochReporter.line(metrics, epochs: trainer.config.epochs))
        }
        return .continue
    }

    static func line(_ m: EpochMetrics, epochs: Int) -> String {
        var text = "epoch \(m.epoch)/\(epochs)  train loss \(number(m.trainLoss))  acc " + String(format: "%.2f%%", m.trainAccuracy * 100)
        if let loss = m.validationLoss, let accuracy = m.validationAccuracy {
            text += "  val loss \(number(loss))  acc " + String(format: "%.2f%%", accuracy * 100)
        }
        text += String(format: "  (%.2f s train, %.2f s eval)", m.trainSeconds, m.evaluationSeconds)
        return text
    }

    static func number(_ value: Double) -> String {
        value.isNaN ? "NaN" : value.isInfinite ? "inf" : String(format: "%.4f", value)
    }
}
