import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionTraining
import Foundation

/// One run trained into its own directory, as `fashionlab train` trains it: the directory locked while it trains,
/// a checkpoint after every epoch, Ctrl-C or SIGTERM stopping it between batches (`Interruption`), and then
/// everything a run directory holds written (`RunArtifacts.saveFinished(history:model:test:device:to:)`).
public enum TrainingRun {
    /// Trains `trainer` in `directory` and saves what it made (the confusion matrix on `test`). With
    /// `replacing`, the run files already there are removed first (a stale checkpoint would otherwise be
    /// resumed). An interrupted run returns its history with `interrupted` set; its completed epochs are saved.
    public static func train(_ trainer: Trainer, in directory: String, test: Dataset, device: String,
                             replacing: Bool, observer: TrainingObserver?) throws -> TrainingHistory {
        let lock = try DirectoryLock(directory: directory, wait: false)
        defer { withExtendedLifetime(lock) {} }
        if replacing { try removeRun(in: directory) }
        trainer.checkpointDirectory = directory
        Interruption.install()
        trainer.stopRequested = { Interruption.requested }
        let history = try trainer.run(observer: observer)
        try RunArtifacts.saveFinished(history: history, model: trainer.model, test: test, device: device, to: directory)
        return history
    }

    /// Removes every run file (`RunDirectory.runFiles`) from `directory`, leaving anything else.
    public static func removeRun(in directory: String) throws {
        for file in RunDirectory.runFiles where FileManager.default.fileExists(atPath: directory + "/" + file) {
            do {
                try FileManager.default.removeItem(atPath: directory + "/" + file)
            } catch {
                throw RunNotReplaced(file: directory + "/" + file, reason: (error as NSError).localizedDescription)
            }
        }
    }
}

/// A run file that could not be removed to replace the run.
public struct RunNotReplaced: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file) cannot be removed (\(reason))" }
}

/// A directory that already holds a run, which is neither replaced nor continued without being asked to.
public struct RunAlreadyThere: Error, CustomStringConvertible {
    public let directory: String
    /// The run file found there.
    public let file: String
    public var description: String { "\(directory) already holds a run (\(file))" }

    /// Throws unless `directory` holds no run.
    public static func check(_ directory: String) throws {
        if let file = RunDirectory.existingRun(in: directory) { throw RunAlreadyThere(directory: directory, file: file) }
    }
}
