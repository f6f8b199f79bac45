import ArgumentParser
import CKernels
import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionTraining
import Foundation

/// `fashionlab train`: one run, with a line per epoch, metrics, charts and a checkpoint after every epoch.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one model on Fashion-MNIST and save its metrics, charts and checkpoint.",
        discussion: "A checkpoint is written after every epoch; Ctrl-C stops between batches and `--resume DIR` continues the run where it stopped, with bit-identical results.\n\nRecipes (--recipe NAME):\n" + Recipe.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var options: TrainingOptions

    @Option(help: ArgumentHelp("Directory for metrics.json, metrics.csv, model.safetensors, the charts and the checkpoint.", valueName: "DIR"))
    var out: String?

    @Option(help: ArgumentHelp("Continue the run saved in DIR (its configuration is used; other training flags are ignored).", valueName: "DIR"))
    var resume: String?

    @Flag(help: "Replace the run already in the output directory (its metrics, model, checkpoint, charts and evaluation files are removed first); without it such a directory is refused.")
    var force = false

    @Flag(help: "Print nothing but errors (and the JSON with --json).")
    var quiet = false

    @Flag(help: "Print each epoch's metrics as one JSON line on standard output.")
    var json = false

    func validate() throws {
        try options.validate()
        if let resume, out != nil, out != resume { throw ValidationError("--out cannot differ from --resume \(resume): a resumed run stays in its directory") }
        if let resume, force { throw ValidationError("--force replaces a run and --resume \(resume) continues it: give one of them") }
    }

    /// What a finished or interrupted run leaves in its directory (and an evaluation of it beside them): `--force`
    /// removes these and nothing else.
    static let runFiles = [RunDirectory.metricsFile, RunDirectory.csvFile, RunDirectory.modelFile, TrainingCheckpoint.file,
                           "curves.svg", "weights.svg", "confusion.svg", "report.html",
                           "confusion.txt", "misclassified.png", RunArtifacts.evaluationFile]

    /// The file that shows `directory` holds a run (`metrics.json` or `checkpoint.safetensors`), if any.
    static func existingRun(in directory: String) -> String? {
        [RunDirectory.metricsFile, TrainingCheckpoint.file].first { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// Refuses a directory that holds a run unless `--force`: nothing in it is changed.
    func checkNotOverwriting(_ directory: String, flag: String) throws {
        guard !force, let file = Self.existingRun(in: directory) else { return }
        throw ValidationError("\(flag)\(directory) already holds a run (\(file)); continue it with --resume \(directory), or replace it with --force")
    }

    func run() throws {
        options.applyThreads()
        // An explicit --out is checked before anything is loaded; the default directory once its name is known.
        if resume == nil, let out { try checkNotOverwriting(out, flag: "--out ") }
        let (backend, device) = try deviceOptions.select(quiet: quiet || json)
        let data = try dataOptions.load(quiet: quiet || json)
        let trainer: Trainer
        let directory: String
        if let resume {
            guard TrainingCheckpoint.exists(in: resume) else {
                throw ValidationError("--resume \(resume): no \(TrainingCheckpoint.file) there (it is written after the first complete epoch)")
            }
            trainer = try TrainingCheckpoint.resume(from: resume, train: data.train, test: data.test, backend: backend)
            directory = resume
            if !quiet && !json { print("Resuming \(trainer.config.summary) after epoch \(trainer.history.epochs.count)") }
        } else {
            let config: TrainingConfig
            do {
                config = try options.config.prepared(for: data.train, normalize: options.normalizesInputs, split: options.valSplit)
            } catch let error as BatchLargerThanTrainingSet {
                throw ValidationError("--batch-size \(error.batchSize) is larger than the \(error.trainingImages) training images")
            } catch let error as ValidationSplitTooLarge {
                throw ValidationError("--val-split \(error)")
            }
            trainer = Trainer(config: config, train: data.train, test: data.test, backend: backend)
            directory = out ?? "runs/" + RunName.default(for: config, recipe: options.recipe, modelName: options.model.runName)
            try checkNotOverwriting(directory, flag: out == nil ? "" : "--out ")
            if !quiet && !json { print("Training \(config.summary)") }
        }
        if let fallback = trainer.backendFallback {
            guard deviceOptions.device != .cuda else { throw ValidationError("--device cuda: \(fallback)") }
            if !quiet && !json { Terminal.note("Device: CPU (\(fallback))") }
        }
        if !quiet && !json { print(trainer.backend.summary) }
        let lock = try DirectoryLock(directory: directory, wait: false)
        defer { withExtendedLifetime(lock) {} }
        if resume == nil, force {
            // The old run goes before the new one writes anything (a stale checkpoint would otherwise be resumed).
            for file in Self.runFiles where FileManager.default.fileExists(atPath: directory + "/" + file) {
                do {
                    try FileManager.default.removeItem(atPath: directory + "/" + file)
                } catch {
                    throw ValidationError("--force: \(directory)/\(file) cannot be removed (\((error as NSError).localizedDescription))")
                }
            }
        }
        trainer.checkpointDirectory = directory
        fl_install_interrupt_handler()
        trainer.stopRequested = { fl_interrupt_requested() != 0 }

        let history = try trainer.run(observer: EpochReporter(quiet: quiet, json: json))
        Terminal.endBar()
        try RunArtifacts.saveFinished(history: history, model: trainer.model, test: data.test, device: device, to: directory)
        if history.interrupted {
            let completed = history.epochs.count
            Terminal.note("Interrupted in epoch \(completed + 1); " + (TrainingCheckpoint.exists(in: directory)
                ? "the \(completed) completed epoch\(completed == 1 ? " is" : "s are") saved in \(directory). Continue with: fashionlab train --resume \(directory)"
                : "no epoch was completed, so there is nothing to resume: run the command again to start over"))
            throw ExitCode(130)
        }
        if history.diverged {
            let value = history.last.map { $0.trainLoss.isNaN ? "NaN" : "infinite" } ?? "NaN"
            Terminal.note("Diverged: the training loss became \(value) in epoch \(history.epochs.count); training stopped there and the metrics so far are saved. A smaller --lr (or scaled inputs) may help.")
        }
        if json {
            try Terminal.printJSON(["directory": directory, "weights_sha256": trainer.model.weightsDigest])
        } else if !quiet {
            for line in history.validationOutcome { print(line) }
            print("Weights SHA-256: \(trainer.model.weightsDigest)")
            let best = history.bestEpoch != nil ? " best.safetensors," : ""
            print("Saved metrics.json, metrics.csv, model.safetensors,\(best) checkpoint.safetensors, curves.svg, weights.svg, confusion.svg and report.html in \(directory)")
        }
    }
}

/// Prints a line per epoch and draws a progress bar while an epoch runs.
final class EpochReporter: TrainingObserver {
    let quiet: Bool
    let json: Bool
    private var throttle: BarThrottle
    private var epochStart = DispatchTime.now()

    init(quiet: Bool, json: Bool) {
        self.quiet = quiet
        self.json = json
        throttle = BarThrottle(quiet: quiet)
    }

    func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) {
        if index == 0 { epochStart = DispatchTime.now() }
        guard throttle.ready(final: index == count - 1) else { return }
        let epoch = trainer.history.epochs.count + 1
        let progress = TrainingProgress(epochs: trainer.config.epochs, batchesPerEpoch: count, imagesPerEpoch: trainer.train.count)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - epochStart.uptimeNanoseconds) / 1e9
        let now = progress.snapshot(epoch: epoch, batch: index, elapsed: elapsed,
                                    evaluationSeconds: trainer.history.last?.evaluationSeconds ?? 0)
        Terminal.drawBar("epoch \(epoch)/\(trainer.config.epochs)", fraction: Double(index + 1) / Double(count),
                         detail: Self.barDetail(step: index + 1, of: count, loss: loss, now))
    }

    /// `step 976/1875  loss 0.4312  12,345 img/s  2.6 ms/step  left 0:02 (run 0:13)`.
    static func barDetail(step: Int, of count: Int, loss: Float, _ now: TrainingProgress.Snapshot) -> String {
        var text = "step \(step)/\(count)"
        if !loss.isNaN { text += String(format: "  loss %.4f", loss) }
        text += String(format: "  %.0f img/s  %.1f ms/step", now.imagesPerSecond, now.millisecondsPerStep)
        return text + "  left \(TrainingProgress.clock(now.epochSecondsLeft)) (run \(TrainingProgress.clock(now.runSecondsLeft)))"
    }

    func trainer(_ trainer: Trainer, didFinishEpoch metrics: EpochMetrics) -> TrainingDecision {
        Terminal.endBar()
        if json {
            try? Terminal.printJSON(metrics)
        } else if !quiet {
            print(EpochReporter.line(metrics, epochs: trainer.config.epochs))
        }
        // One line per epoch as it ends, also when standard output is a pipe or a file.
        fflush(nil)  // every output stream (nil: referring to `stdout` is not concurrency-safe in Swift 6)
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
