import ArgumentParser
import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionInterop
import FashionStudies
import FashionTraining
import Foundation

/// `fashionlab train`: one run, with a line per epoch, metrics, charts and a checkpoint after every epoch.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one model on Fashion-MNIST and save its metrics, charts and checkpoint.",
        discussion: "A checkpoint is written after every epoch; Ctrl-C stops between batches and `--resume DIR` continues the run where it stopped, with bit-identical results.\n\n--seeds 0,1,2 trains the same run once per seed into DIR/seed-N and writes DIR/report.html with each number's mean ± standard deviation; running the command again reuses the seeds that finished and continues the one that was interrupted.\n\nRecipes (--recipe NAME):\n" + Recipe.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var options: TrainingOptions

    @Option(help: ArgumentHelp("Directory for metrics.json, metrics.csv, model.safetensors, the charts and the checkpoint.", valueName: "DIR"))
    var out: String?

    @Option(help: ArgumentHelp("Continue the run saved in DIR (its configuration is used; other training flags are ignored).", valueName: "DIR"))
    var resume: String?

    @Option(help: ArgumentHelp("Write TensorBoard event files into DIR/<run name> as the run trains (tensorboard --logdir DIR).", valueName: "DIR"))
    var tensorboard: String?

    @Flag(help: "Replace the run already in the output directory (its metrics, model, checkpoint, charts and evaluation files are removed first); without it such a directory is refused.")
    var force = false

    @Flag(help: "Print nothing but errors (and the JSON with --json).")
    var quiet = false

    @Flag(help: "Print each epoch's metrics as one JSON line on standard output.")
    var json = false

    @Flag(name: .customLong("dry-run"), help: "Check the flags and print the run's settings as JSON (the configuration metrics.json stores, whether inputs are normalised and the validation split as given), without reading data or training.")
    var dryRun = false

    @OptionGroup var seedOptions: SeedOptions

    func validate() throws {
        try options.validate()
        if let resume, out != nil, out != resume { throw ValidationError("--out cannot differ from --resume \(resume): a resumed run stays in its directory") }
        if let resume, force { throw ValidationError("--force replaces a run and --resume \(resume) continues it: give one of them") }
        if seedOptions.seeds != nil {
            if let resume { throw ValidationError("--seeds starts runs and --resume \(resume) continues one: continue a seed's run with --resume DIR/seed-N, or give --seeds again to continue them all") }
            if options.seed != nil { throw ValidationError("--seed and --seeds both set the seed: give one of them") }
        }
    }

    /// Refuses a directory that holds a run unless `--force`: nothing in it is changed.
    func checkNotOverwriting(_ directory: String, flag: String) throws {
        guard !force else { return }
        do {
            try RunAlreadyThere.check(directory)
        } catch let error as RunAlreadyThere {
            throw ValidationError(Self.message(error, flag: flag))
        }
    }

    static func message(_ error: RunAlreadyThere, flag: String) -> String {
        "\(flag)\(error); continue it with --resume \(error.directory), or replace it with --force"
    }

    func run() throws {
        if dryRun {
            let settings = try options.settings
            return try Terminal.printJSON(DryRun(config: try options.config, normalize: settings.normalize, split: settings.split))
        }
        options.applyThreads()
        if let tensorboard { try TensorBoardObserver.checkWritable(tensorboard) }
        let seeds = try seedOptions.list
        // An explicit --out is checked before anything is loaded; the default directory once its name is known.
        // (With --seeds, --out is the folder of the seeds' runs, checked seed by seed.)
        if resume == nil, seeds == nil, let out { try checkNotOverwriting(out, flag: "--out ") }
        let (backend, device) = try deviceOptions.select(quiet: quiet || json)
        let data = try dataOptions.load(quiet: quiet || json)
        if let seeds { return try trainSeeds(seeds, data: data, backend: backend, device: device) }
        let trainer: Trainer
        let directory: String
        if let resume {
            guard TrainingCheckpoint.exists(in: resume) else {
                throw ValidationError("--resume \(resume): no \(RunDirectory.checkpointFile) there (it is written after the first complete epoch)")
            }
            trainer = try TrainingCheckpoint.resume(from: resume, train: data.train, test: data.test, backend: backend)
            directory = resume
            if !quiet && !json { print("Resuming \(trainer.config.summary) after epoch \(trainer.history.epochs.count)") }
        } else {
            let config = try preparedConfig(seed: nil, train: data.train)
            trainer = try Trainer(config: config, train: data.train, test: data.test, backend: backend)
            directory = out ?? "runs/" + RunName.default(for: config, recipe: options.recipe, modelName: options.model.runName)
            try checkNotOverwriting(directory, flag: out == nil ? "" : "--out ")
            if !quiet && !json { print("Training \(config.summary)") }
        }
        let history = try train(trainer, in: directory, test: data.test, device: device, replacing: resume == nil && force)
        if json {
            try Terminal.printJSON(["directory": directory, "weights_sha256": trainer.model.weightsDigest])
        } else if !quiet {
            for line in history.validationOutcome { print(line) }
            print("Weights SHA-256: \(trainer.model.weightsDigest)")
            let best = history.bestEpoch != nil ? " best.safetensors," : ""
            print("Saved metrics.json, metrics.csv, model.safetensors,\(best) checkpoint.safetensors, curves.svg, weights.svg, confusion.svg and report.html in \(directory)")
        }
    }

    /// The flags' configuration (with `seed` when given), its normalisation measured and its validation split
    /// resolved on `train`.
    func preparedConfig(seed: UInt64?, train: Dataset) throws -> TrainingConfig {
        let settings = try options.settings
        var config = try options.config
        if let seed { config.seed = seed }
        do {
            return try config.prepared(for: train, normalize: settings.normalize, split: settings.split)
        } catch let error as BatchLargerThanTrainingSet {
            throw ValidationError("--batch-size \(error.batchSize) is larger than the \(error.trainingImages) training images")
        } catch let error as ValidationSplitTooLarge {
            throw ValidationError("--val-split \(error)")
        }
    }

    /// Trains `trainer` in `directory` (``TrainingRun``) with a line per epoch, and says what to do when Ctrl-C
    /// interrupted it (then throws `ExitCode(130)`) or the loss diverged.
    func train(_ trainer: Trainer, in directory: String, test: Dataset, device: String, replacing: Bool) throws -> TrainingHistory {
        if let fallback = trainer.backendFallback {
            guard deviceOptions.device != .cuda else { throw ValidationError("--device cuda: \(fallback)") }
            if !quiet && !json { Terminal.note("Device: CPU (\(fallback))") }
        }
        if !quiet && !json { print(trainer.backend.summary) }
        let history: TrainingHistory
        var events: TensorBoardObserver?
        do {
            let reporter = EpochReporter(quiet: quiet, json: json)
            events = try tensorboard.map { try TensorBoardObserver(logdir: $0, runDirectory: directory, trainer: trainer, replacing: replacing, then: reporter) }
            history = try TrainingRun.train(trainer, in: directory, test: test, device: device, replacing: replacing,
                                            observer: events ?? reporter)
        } catch let error as RunNotReplaced {
            throw ValidationError("--force: \(error)")
        }
        Terminal.endBar()
        if let failure = events?.failure { Terminal.note("\(failure)") }
        if history.interrupted {
            let completed = history.epochs.count
            let again = seedOptions.seeds != nil ? "run the same command again" : "fashionlab train --resume \(directory)"
            Terminal.note("Interrupted in epoch \(completed + 1); " + (TrainingCheckpoint.exists(in: directory)
                ? "the \(completed) completed epoch\(completed == 1 ? " is" : "s are") saved in \(directory). Continue with: \(again)"
                : "no epoch was completed, so there is nothing to resume: run the command again to start over"))
            throw ExitCode(130)
        }
        if history.diverged {
            let value = history.last.map { $0.trainLoss.isNaN ? "NaN" : "infinite" } ?? "NaN"
            Terminal.note("Diverged: the training loss became \(value) in epoch \(history.epochs.count); training stopped there and the metrics so far are saved. A smaller --lr (or scaled inputs) may help.")
        }
        return history
    }

    /// `--seeds`: the run once per seed (``SeedSweep``), a line as each starts, then the seeds' mean ± standard
    /// deviation in the terminal and in `DIR/report.html`.
    func trainSeeds(_ seeds: [UInt64], data: FashionMNISTData, backend: ComputeBackend, device: String) throws {
        let first = try preparedConfig(seed: seeds[0], train: data.train)
        let sweep = SeedSweep(seeds: seeds, directory: out ?? "runs/" + RunName.seeds(for: first, seeds: seeds, recipe: options.recipe, modelName: options.model.runName),
                              replacing: force)
        let say = !quiet && !json
        let result: StudyResult
        do {
            result = try sweep.run(config: { try preparedConfig(seed: $0, train: data.train) }, data: data, backend: backend, device: device,
                                   started: { start, index, seed, directory in
                guard say else { return }
                let label = "seed \(seed) (\(index + 1) of \(seeds.count))"
                switch start {
                case .reused: print("\(label): already trained in \(directory), reused")
                case .resumed(let trainer): print("\(label): resuming \(directory) after epoch \(trainer.history.epochs.count)")
                case .new(let trainer): print("\(label): training \(trainer.config.summary) in \(directory)")
                }
            }, train: { trainer, directory in
                let history = try train(trainer, in: directory, test: data.test, device: device, replacing: force)
                if say { for line in history.validationOutcome.dropFirst() { print(line) } }
                return history
            })
        } catch let error as RunAlreadyThere {
            throw ValidationError(Self.message(error, flag: "--seeds: "))
        }
        let summary = SeedSummary(result.groups[0])
        if json {
            try Terminal.printJSON(summary)
        } else if !quiet {
            for line in summary.lines { print(line) }
            print("Wrote report.html, curves.svg and weights.svg in \(sweep.directory)")
        }
    }
}

/// What `train --dry-run` prints.
private struct DryRun: Encodable {
    let config: TrainingConfig
    let normalize: Bool
    let split: ValidationSplit?
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
