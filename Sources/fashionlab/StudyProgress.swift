import ArgumentParser
import FashionStudies
import FashionTraining
import Foundation

/// Progress of a study or lab on the terminal: a bar per epoch while a run trains, one line per run.
final class StudyProgress: TrainingObserver {
    let prefix: String
    private var throttle: BarThrottle

    init(prefix: String, quiet: Bool) {
        self.prefix = prefix
        throttle = BarThrottle(quiet: quiet)
    }

    func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) {
        guard throttle.ready() else { return }
        let epoch = trainer.history.epochs.count
        let fraction = (Double(epoch) + Double(index + 1) / Double(count)) / Double(trainer.config.epochs)
        Terminal.drawBar(prefix, fraction: fraction, detail: "epoch \(epoch + 1)/\(trainer.config.epochs)")
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
    static func attach(to runner: StudyRunner, study: String, quiet: Bool) {
        runner.observer = { run, index, count in StudyProgress(prefix: "\(study) [\(index + 1)/\(count)] \(run.label)", quiet: quiet) }
        runner.didFinishRun = { result, index, count in
            Terminal.endBar()
            if !quiet { print(line(result, study: study, index: index, count: count)) }
        }
    }
}
