import Foundation
import FashionEngine
import FashionTraining

/// Writes a run's curves and weights as TensorBoard event files while it trains: a `TrainingObserver` that passes
/// every call on to another observer (the terminal's progress, a study's) and writes into `directory`:
///
/// | tag | step | value |
/// | --- | --- | --- |
/// | `loss/train`, `accuracy/train` | epoch (1, 2, …) | mean batch loss, accuracy 0…1 (as `metrics.json`) |
/// | `loss/test`, `accuracy/test` | epoch | the test set after each epoch (the validation set by default) |
/// | `loss/validation`, `accuracy/validation` | epoch | with a validation split, the held-out images; `loss/test` and `accuracy/test` are then one point, at the epoch whose weights were measured |
/// | `learning_rate` | epoch | the epoch's learning rate, as `metrics.json` records it |
/// | `steps/train_loss` | optimiser step | with `logEvery`, the mean loss of each window (`history.steps`) |
/// | `weights/0.weight`, `weights/0.bias`, … | epoch | histogram of each parameter (PyTorch's `state_dict` names) |
///
/// An epoch's events are written together once it has ended (its checkpoint saved), so a running TensorBoard shows
/// each epoch as it finishes, and an interrupted epoch leaves nothing behind: a resumed run appends a new file from the
/// next epoch on, and no step is ever written twice (TensorBoard draws repeated steps as a line running backwards).
/// A run that starts from epoch 1 replaces the event files already in `directory` (an earlier run of the same name);
/// a resumed run writes the epochs before it that the directory's files lack (all of them in a directory without
/// any; no histograms for those: their weights are gone).
///
/// ```swift
/// let tensorboard = try TensorBoardObserver(directory: "tensorboard/mlp")
/// try trainer.run(observer: tensorboard)
/// // tensorboard --logdir tensorboard
/// ```
/// Writing never stops training: a failure after the directory was checked is kept in ``failure``.
public final class TensorBoardObserver: TrainingObserver {
    /// The run's directory of event files (`LOGDIR/<run name>`: TensorBoard's runs are the folders of its logdir).
    public let directory: String
    /// The observer that every call is passed on to.
    public let next: TrainingObserver?
    /// The first write that failed after `init` (the rest of the run is then not written); nil while all went well.
    public private(set) var failure: TensorBoardError?
    /// The file written since `init`.
    public var path: String { file.path }

    private let file: EventFile
    /// Where a study collects its runs' failures.
    private let failures: TensorBoardLogdir?
    /// Whether the first callback has come (and the run's start has been handled).
    private var started = false
    /// The logged steps of the epoch in progress, written with the epoch.
    private var pending: [Tensorboard_Event] = []
    /// How many of `history.steps` are written or pending.
    private var stepsSeen = 0

    /// Creates `directory` (and its parents) when it does not exist and a new event file in it; throws a
    /// ``TensorBoardError`` naming the directory when it cannot, so that a run is refused before it trains.
    public convenience init(directory: String, then next: TrainingObserver? = nil) throws {
        try self.init(directory: directory, then: next, failures: nil)
    }

    /// The observer of the run in `runDirectory` (`train --out`'s directory), writing into
    /// `logdir/<run name>` (``runName(forRunDirectory:)``).
    public convenience init(logdir: String, runDirectory: String, then next: TrainingObserver? = nil) throws {
        try self.init(directory: logdir + "/" + Self.runName(forRunDirectory: runDirectory), then: next, failures: nil)
    }

    /// The observer of `trainer`, the run in `runDirectory`, writing into `logdir/<run name>`; when the run starts from
    /// its first epoch and that directory already holds another run's curves, throws a ``TensorBoardError`` that says
    /// so (TensorBoard would draw the two as one run), unless `replacing`: they are then removed as the run starts.
    /// (`train`: a second run whose `--out` has the same name as the first's, under another folder.)
    public convenience init(logdir: String, runDirectory: String, trainer: Trainer, replacing: Bool,
                            then next: TrainingObserver? = nil) throws {
        let directory = logdir + "/" + Self.runName(forRunDirectory: runDirectory)
        if trainer.history.epochs.isEmpty, !replacing, let file = Self.earlierCurves(in: directory) {
            throw TensorBoardError("--tensorboard: \(directory) already holds the curves of another run (\(file)); give --force to replace them, or another --tensorboard or --out")
        }
        try self.init(directory: directory, then: next, failures: nil)
    }

    /// The first event file in `directory` that holds any value (not only the version record that every file starts
    /// with, which is all a run interrupted in its first epoch leaves).
    static func earlierCurves(in directory: String) -> String? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter(EventFile.isEventFile).sorted()
        return names.first { name in
            ((try? EventFile.events(at: directory + "/" + name)) ?? []).contains { !$0.summary.value.isEmpty }
        }.map { directory + "/" + $0 }
    }

    init(directory: String, then next: TrainingObserver?, failures: TensorBoardLogdir?) throws {
        self.directory = directory
        self.next = next
        self.failures = failures
        try Self.makeDirectory(directory)
        file = try EventFile(directory: directory)
    }

    /// Creates `directory` when it does not exist.
    static func makeDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw TensorBoardError("--tensorboard: \(directory) is a file, not a directory")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            // Foundation's message says only "error 512": name the part of the path that is in the way.
            var ancestor = URL(fileURLWithPath: directory).deletingLastPathComponent()
            while ancestor.path != "/", !FileManager.default.fileExists(atPath: ancestor.path) { ancestor = ancestor.deletingLastPathComponent() }
            let reason = FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) && !isDirectory.boolValue
                ? "\(ancestor.relativePath) is a file" : EventFile.reason(error)
            throw TensorBoardError("--tensorboard: cannot create the directory \(directory): \(reason)")
        }
    }

    /// Throws a ``TensorBoardError`` naming `logdir` when it cannot be created or a file cannot be written in it.
    public static func checkWritable(_ logdir: String) throws {
        try makeDirectory(logdir)
        let probe = logdir + "/.fashionlab-write-check-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw TensorBoardError("--tensorboard: cannot write in \(logdir): \(String(cString: strerror(errno)))")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    /// The name a run's directory gets under a logdir: its run directory's name (`runs/adam-lr0.001-…` →
    /// `adam-lr0.001-…`), with the seed sweep's name first for `train --seeds`'s `DIR/seed-N` (`sweep/seed-1`).
    public static func runName(forRunDirectory path: String) -> String {
        let components = URL(fileURLWithPath: path).standardizedFileURL.pathComponents.filter { $0 != "/" }
        guard let last = components.last else { return "run" }
        if last.hasPrefix("seed-"), components.count > 1 { return components[components.count - 2] + "/" + last }
        return last
    }

    // MARK: - Training observer

    /// Keeps the steps `--log-every` logged during the batch, to write with the epoch.
    public func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) {
        start(trainer)
        let steps = trainer.history.steps
        if steps.count > stepsSeen {
            let now = Date().timeIntervalSince1970
            for logged in steps[stepsSeen...] {
                pending.append(Tensorboard_Event(step: logged.step, wallTime: now, values: [.scalar("steps/train_loss", logged.loss)]))
            }
            stepsSeen = steps.count
        }
        next?.trainer(trainer, didFinishBatch: index, of: count, loss: loss)
    }

    /// Writes the epoch: its logged steps, its scalars and a histogram of every parameter. Returns what ``next``
    /// decides (continue without one).
    public func trainer(_ trainer: Trainer, didFinishEpoch metrics: EpochMetrics) -> TrainingDecision {
        start(trainer)
        var values = Self.scalars(metrics, validation: Self.validationName(trainer.history.config))
        values += trainer.model.parameters.map { .histogram("weights/" + $0.name, UnsafeBufferPointer($0.value.buffer)) }
        append(pending + [Tensorboard_Event(step: metrics.epoch, wallTime: Date().timeIntervalSince1970, values: values)])
        pending = []
        return next?.trainer(trainer, didFinishEpoch: metrics) ?? .continue
    }

    /// Drops an interrupted epoch's steps and writes the test set's measurement when it was held back to the end.
    public func trainer(_ trainer: Trainer, didFinishRun history: TrainingHistory) {
        start(trainer)
        pending = []  // an interrupted epoch's steps: the resumed run trains them again
        if let test = Self.testEvent(history) { append([test]) }
        if let failure { failures?.fail(failure.description) }
        next?.trainer(trainer, didFinishRun: history)
    }

    // MARK: - Writing

    /// Writes what `history` holds: every epoch's and logged step's scalars and the test set's measurement, without
    /// histograms (the weights of past epochs are not kept). Used for a run that finished before (a study's reused
    /// run) or was resumed into a directory without its earlier events.
    public func record(_ history: TrainingHistory) throws {
        try file.write(Self.events(of: history, after: (epoch: 0, step: 0)))
    }

    /// The scalars of `history`'s epochs and logged steps after those `written` (and the test set's measurement).
    private static func events(of history: TrainingHistory, after written: (epoch: Int, step: Int)) -> [Tensorboard_Event] {
        let now = Date().timeIntervalSince1970
        let validation = validationName(history.config)
        var events = history.steps.filter { $0.step > written.step }
            .map { Tensorboard_Event(step: $0.step, wallTime: now, values: [.scalar("steps/train_loss", $0.loss)]) }
        events += history.epochs.filter { $0.epoch > written.epoch }
            .map { Tensorboard_Event(step: $0.epoch, wallTime: now, values: scalars($0, validation: validation)) }
        if let test = testEvent(history) { events.append(test) }
        return events
    }

    /// At the first callback: a run from its first epoch replaces the directory's earlier event files; a resumed one
    /// writes the epochs and steps of its history that they lack (all of them when there are none; those of an epoch
    /// whose checkpoint was saved just before the process was killed, before its events were written).
    private func start(_ trainer: Trainer) {
        guard !started else { return }
        started = true
        stepsSeen = trainer.history.steps.count
        let others = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { EventFile.isEventFile($0) && directory + "/" + $0 != file.path }
        if trainer.history.epochs.isEmpty {
            for name in others {
                do {
                    try FileManager.default.removeItem(atPath: directory + "/" + name)
                } catch {
                    failure = failure ?? TensorBoardError("--tensorboard: cannot remove the earlier run's \(directory)/\(name): \(EventFile.reason(error))")
                }
            }
            return
        }
        var written = (epoch: 0, step: 0)
        for name in others {
            for event in (try? EventFile.events(at: directory + "/" + name)) ?? [] {
                for value in event.summary.value {
                    if value.tag == "loss/train" { written.epoch = max(written.epoch, Int(event.step)) }
                    if value.tag == "steps/train_loss" { written.step = max(written.step, Int(event.step)) }
                }
            }
        }
        var history = trainer.history
        history.test = nil  // measured at the end of this run, and written then
        append(Self.events(of: history, after: written))
    }

    /// Writes `events` unless a write failed before.
    private func append(_ events: [Tensorboard_Event]) {
        guard failure == nil else { return }
        do {
            try file.write(events)
        } catch {
            failure = error as? TensorBoardError ?? TensorBoardError("--tensorboard: \(file.path): \(error)")
        }
    }

    /// `validation` when the run holds training images out for it; `test` when the test set is its validation set.
    private static func validationName(_ config: TrainingConfig) -> String {
        config.validationSplit == nil ? "test" : "validation"
    }

    /// An epoch's scalars.
    private static func scalars(_ metrics: EpochMetrics, validation: String) -> [Tensorboard_Summary.Value] {
        var values: [Tensorboard_Summary.Value] = [
            .scalar("loss/train", metrics.trainLoss), .scalar("accuracy/train", metrics.trainAccuracy),
            .scalar("learning_rate", Double(metrics.learningRate)),
        ]
        if let loss = metrics.validationLoss { values.append(.scalar("loss/" + validation, loss)) }
        if let accuracy = metrics.validationAccuracy { values.append(.scalar("accuracy/" + validation, accuracy)) }
        return values
    }

    /// The test set measured once at the end (with a validation split), at the epoch whose weights it measured.
    private static func testEvent(_ history: TrainingHistory) -> Tensorboard_Event? {
        guard let test = history.test else { return nil }
        return Tensorboard_Event(step: test.epoch, wallTime: Date().timeIntervalSince1970,
                                 values: [.scalar("loss/test", test.loss), .scalar("accuracy/test", test.accuracy)])
    }
}
