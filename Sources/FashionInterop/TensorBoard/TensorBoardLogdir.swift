import Foundation
import FashionStudies
import FashionTraining

/// A study's or a lab's TensorBoard logdir: each run's events in `logdir/<run directory's name>` (see
/// `TensorBoardObserver`), so that TensorBoard's run selector compares them.
///
/// ```swift
/// let events = try TensorBoardLogdir(path: "tensorboard")
/// events.attach(to: runner)
/// let result = try runner.run(study)
/// ```
public final class TensorBoardLogdir: @unchecked Sendable {
    /// The directory TensorBoard is pointed at (`tensorboard --logdir …`).
    public let path: String
    private let lock = NSLock()
    private var problems: [String] = []

    /// Creates `path` when it does not exist; throws a `TensorBoardError` naming it when it cannot be created or
    /// written, before anything trains.
    public init(path: String) throws {
        try TensorBoardObserver.checkWritable(path)
        self.path = path
    }

    /// What could not be written (a run's directory, a failed write), one sentence each; empty when all was written.
    public var failures: [String] { lock.withLock { problems } }

    func fail(_ problem: String) { lock.withLock { problems.append(problem) } }

    /// Makes `runner` write every run's event files as it trains, and the curves of the runs it finds finished (not
    /// trained again) when their directory has none yet. Wraps the runner's `observer` and `didFinishRun` as they are
    /// now: attach after setting those (again after each time they are set).
    public func attach(to runner: StudyRunner) {
        let (observer, didFinishRun, logdir) = (runner.observer, runner.didFinishRun, path)
        runner.observer = { [unowned runner, self] run, index, count in
            let next = observer?(run, index, count)
            let directory = logdir + "/" + TensorBoardObserver.runName(forRunDirectory: runner.directory(for: run))
            do {
                return try TensorBoardObserver(directory: directory, then: next, failures: self)
            } catch {
                fail("\(error)")
                return next
            }
        }
        runner.didFinishRun = { [self] result, index, count in
            if result.reused {
                let directory = logdir + "/" + TensorBoardObserver.runName(forRunDirectory: result.directory)
                let written = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.contains(where: EventFile.isEventFile) ?? false
                if !written {
                    do { try TensorBoardObserver(directory: directory).record(result.history) } catch { fail("\(error)") }
                }
            }
            didFinishRun?(result, index, count)
        }
    }
}
