import ArgumentParser
import FashionStudies
import FashionTraining
import Foundation

/// Progress of a study or lab on the terminal: a bar per epoch while a run trains (with the time left in the run
/// and in the study), one line per run.
final class StudyProgress: TrainingObserver {
    let prefix: String
    /// The images the study's runs after this one train, whose time is estimated at this run's pace.
    let laterImages: Double
    private var throttle: BarThrottle
    private var epochStart = DispatchTime.now()

    init(prefix: String, laterImages: Double = 0, quiet: Bool) {
        self.prefix = prefix
        self.laterImages = laterImages
        throttle = BarThrottle(quiet: quiet)
    }

    func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) {
        if index == 0 { epochStart = DispatchTime.now() }
        guard throttle.ready() else { return }
        let epoch = trainer.history.epochs.count
        let fraction = (Double(epoch) + Double(index + 1) / Double(count)) / Double(trainer.config.epochs)
        let progress = TrainingProgress(epochs: trainer.config.epochs, batchesPerEpoch: count, imagesPerEpoch: trainer.train.count)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - epochStart.uptimeNanoseconds) / 1e9
        let now = progress.snapshot(epoch: epoch + 1, batch: index, elapsed: elapsed, evaluationSeconds: trainer.history.last?.evaluationSeconds ?? 0)
        var detail = "epoch \(epoch + 1)/\(trainer.config.epochs)  left \(TrainingProgress.clock(now.runSecondsLeft))"
        if laterImages > 0, now.imagesPerSecond > 0 {
            detail += " (study ≈ \(TrainingProgress.clock(now.runSecondsLeft + laterImages / now.imagesPerSecond)))"
        }
        Terminal.drawBar(prefix, fraction: fraction, detail: detail)
    }

    /// The line printed when a run is done.
    static func line(_ result: RunResult, study: String? = nil, index: Int = 0, count: Int = 1) -> String {
        let last = result.history.last
        var text = (study.map { "\($0) [\(index + 1)/\(count)] " } ?? "") + "\(result.run.label) (\(result.run.config.summary)): "
        if let last {
            text += String(format: "train %.1f%%", last.trainAccuracy * 100)
            if let validation = last.validationAccuracy { text += String(format: ", val %.1f%%", validation * 100) }
        }
        let epochs = result.history.epochs.count
        text += String(format: ", %d epoch%@, %.1f s", epochs, epochs == 1 ? "" : "s", result.seconds)
        if result.history.diverged { text += " (diverged)" }
        if result.reused { text += " (already done, reused)" }
        return text
    }

    /// Runs `body`; a Ctrl-C that stopped it becomes a note on how to continue and exit code 130.
    static func interruptible<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let interrupted as StudyInterrupted {
            Terminal.endBar()
            Terminal.note("Stopped: \(interrupted). Completed runs and epochs are saved; run the same command again to continue.")
            throw ExitCode(130)
        }
    }

    /// Connects a runner to the terminal.
    static func attach(to runner: StudyRunner, study: Study, quiet: Bool) {
        let available = runner.train.count
        runner.observer = { run, index, count in
            let later = study.runs.dropFirst(index + 1).map { TrainingProgress.images(of: $0.config, available: available) }
            return StudyProgress(prefix: "\(study.name) [\(index + 1)/\(count)] \(run.label)", laterImages: later.reduce(0, +), quiet: quiet)
        }
        runner.didFinishRun = { result, index, count in
            Terminal.endBar()
            if !quiet { print(line(result, study: study.name, index: index, count: count)) }
        }
    }

    /// Runs side by side (the lab on the CPU): a line per finished run with how many are done and, at the pace
    /// kept so far, the time left.
    static func attachSideBySide(to runner: StudyRunner, studies: [Study], quiet: Bool) {
        let available = runner.train.count
        let total = studies.flatMap(\.runs).map { TrainingProgress.images(of: $0.config, available: available) }.reduce(0, +)
        let runs = studies.map(\.runs.count).reduce(0, +)
        let start = DispatchTime.now()
        let state = SideBySideCount()
        runner.didFinishRun = { result, _, _ in
            guard !quiet else { return }
            let (finished, done) = state.add(TrainingProgress.images(of: result.run.config, available: available))
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            var text = line(result) + " [\(finished)/\(runs) runs"
            if finished < runs, let left = TrainingProgress.secondsLeft(done: done, elapsed: elapsed, left: total - done) {
                text += ", ≈ \(TrainingProgress.clock(left)) left"
            }
            print(text + "]")
        }
    }
}

/// The runs finished so far and their images, counted by the workers of a lab that trains runs side by side.
private final class SideBySideCount: @unchecked Sendable {
    private let lock = NSLock()
    private var runs = 0
    private var images = 0.0

    func add(_ runImages: Double) -> (runs: Int, images: Double) {
        lock.withLock {
            runs += 1
            images += runImages
            return (runs, images)
        }
    }
}
