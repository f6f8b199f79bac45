import Foundation
import FashionCore
import FashionData
import FashionEngine
import FashionTraining

/// What one run of a study produced.
public struct RunResult {
    public init(run: StudyRun, history: TrainingHistory, model: Sequential?, directory: String, reused: Bool) {
        self.run = run
        self.history = history
        self.model = model
        self.directory = directory
        self.reused = reused
    }

    public let run: StudyRun
    public let history: TrainingHistory
    public let model: Sequential?
    /// Where its files are.
    public let directory: String
    /// True when a finished run with the same configuration was found and not trained again.
    public let reused: Bool

    /// Seconds spent training and evaluating (as measured when it ran).
    public var seconds: Double { history.epochs.reduce(0) { $0 + $1.trainSeconds + $1.evaluationSeconds } }
}

/// A study's runs, in order.
public struct StudyResult {
    public let study: Study
    public let runs: [RunResult]
    /// Size of the training set (for updates per epoch).
    public let trainingImages: Int

    public init(study: Study, runs: [RunResult], trainingImages: Int) {
        self.study = study
        self.runs = runs
        self.trainingImages = trainingImages
    }
}

/// Runs studies, keeping every run in its own directory under `runsDirectory`, named by its label and a
/// hash of its configuration. A run whose directory already holds finished results for the same
/// configuration is not trained again, so an interrupted lab or study continues where it stopped.
public final class StudyRunner {
    public let train: Dataset
    public let test: Dataset
    public let runsDirectory: String
    /// Sees each run's epochs (progress bars, per-epoch lines).
    public var observer: ((StudyRun, _ index: Int, _ count: Int) -> TrainingObserver?)?
    /// Called after each run with its result.
    public var didFinishRun: ((RunResult, _ index: Int, _ count: Int) -> Void)?
    /// Polled between batches; when it returns true the run in progress stops (its completed epochs
    /// are saved) and `run` throws `StudyInterrupted`.
    public var stopRequested: (() -> Bool)?
    /// Where the runs train (one at a time on a GPU); sets ``runDirectorySuffix`` to the backend's.
    public var backend = ComputeBackend.cpu {
        didSet { runDirectorySuffix = backend.runDirectorySuffix }
    }
    /// What run directories' names end with (`-cuda` for GPU runs): the backend's, unless a report written on
    /// another machine than the runs trained on (a Slurm report job, ``finishedResults(_:)``) sets the runs' own.
    public var runDirectorySuffix = ComputeBackend.cpu.runDirectorySuffix

    public init(train: Dataset, test: Dataset, runsDirectory: String) {
        self.train = train
        self.test = test
        self.runsDirectory = runsDirectory
    }

    /// Runs `study`'s runs in order. Throws `InvalidPathName` first, before training anything, when the
    /// study's name cannot become its output directory's name.
    public func run(_ study: Study) throws -> StudyResult {
        try study.validateName()
        var results: [RunResult] = []
        for (index, run) in study.runs.enumerated() {
            let result = try self.run(run, index: index, count: study.runs.count)
            results.append(result)
            didFinishRun?(result, index, study.runs.count)
        }
        return StudyResult(study: study, runs: results, trainingImages: train.count)
    }

    /// Runs several studies with up to `concurrentRuns` runs training at once (each on one thread:
    /// on few cores, independent runs side by side use them better than one run split across them).
    /// Results come back in study and run order; the first error stops the rest and is thrown.
    public func run(_ studies: [Study], concurrentRuns: Int) throws -> [StudyResult] {
        for study in studies { try study.validateName() }
        let jobs = studies.indices.flatMap { s in studies[s].runs.indices.map { (study: s, run: $0) } }
            // Longest first, so the workers finish together.
            .sorted { studies[$0.study].runs[$0.run].config.epochs > studies[$1.study].runs[$1.run].config.epochs }
        let state = SharedJobs(slots: studies.map { [RunResult?](repeating: nil, count: $0.runs.count) })
        let workers = max(1, min(concurrentRuns, jobs.count))
        nonisolated(unsafe) let runner = self
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let job = state.take(from: jobs) {
                let study = studies[job.study]
                do {
                    let result = try runner.run(study.runs[job.run], index: job.run, count: study.runs.count)
                    state.store(result, at: job)
                    runner.didFinishRun?(result, job.run, study.runs.count)
                } catch {
                    state.fail(error)
                }
            }
        }
        if let error = state.error { throw error }
        return studies.indices.map { StudyResult(study: studies[$0], runs: state.slots[$0].map { $0! }, trainingImages: train.count) }
    }

    /// The directory of a run (as ``prepared(_:)`` makes it), named by its configuration and backend (`runs/adam-lr0.001-b32-scaled-e5-3f9a…`,
    /// with `-cuda` at the end for a GPU run), so studies that share a run (the same configuration) train it
    /// once, and a lab on the GPU does not show the CPU's results and times (or the other way round).
    public func directory(for run: StudyRun) -> String {
        let c = run.config
        let name = "\(c.optimizer.rawValue)-lr\(c.learningRate)-b\(c.batchSize)-\(c.scale ? "scaled" : "unscaled")-e\(c.epochs)"
        return runsDirectory + "/" + name + "-" + RunName.hash(c) + runDirectorySuffix
    }

    /// The run as it trains: its normalisation measured on the training set when it asks for it (then
    /// `normalize` is false and `config.normalization` holds the values), after checking that a batch fits in
    /// the images an epoch trains on.
    public func prepared(_ run: StudyRun) throws -> StudyRun {
        do {
            let config = try run.config.prepared(for: train, normalize: run.normalize, split: run.split)
            return StudyRun(label: run.label, config: config)
        } catch let error as BatchLargerThanTrainingSet {
            throw StudyFileError(run.label, error.description)
        } catch let error as ValidationSplitTooLarge {
            throw StudyFileError(run.label, "val-split \(error)")
        }
    }

    /// Trains one run (a Slurm array task's): reuses it when finished, continues it from its last epoch
    /// checkpoint when interrupted, and waits while another process (another task) trains it.
    public func train(_ run: StudyRun) throws -> RunResult {
        let result = try self.run(run, index: 0, count: 1)
        didFinishRun?(result, 0, 1)
        return result
    }

    /// The studies' results from runs already finished, training nothing (a Slurm report job's). Throws
    /// ``UnfinishedRuns``, naming every run that has no finished results, when any is missing.
    public func finishedResults(_ studies: [Study]) throws -> [StudyResult] {
        for study in studies { try study.validateName() }
        var missing: [String] = []
        var results: [StudyResult] = []
        for study in studies {
            var runs: [RunResult] = []
            for run in study.runs {
                let run = try prepared(run)
                let directory = directory(for: run)
                if let (history, model) = RunDirectory.finishedRun(in: directory, config: run.config) {
                    // Trained for this report (by its tasks), not found from an earlier study: not `reused`.
                    runs.append(RunResult(run: run, history: history, model: model, directory: directory, reused: false))
                } else {
                    let checkpoint = (try? TrainingCheckpoint.history(in: directory)).map { " (interrupted after \($0.epochs.count) epoch(s))" } ?? ""
                    let entry = "\(study.name): '\(run.label)' in \(directory)\(checkpoint)"
                    if !missing.contains(entry) { missing.append(entry) }
                }
            }
            results.append(StudyResult(study: study, runs: runs, trainingImages: train.count))
        }
        if !missing.isEmpty { throw UnfinishedRuns(runs: missing) }
        return results
    }

    func run(_ run: StudyRun, index: Int, count: Int) throws -> RunResult {
        let run = try prepared(run)
        let directory = directory(for: run)
        // Another process training this run (a second lab on the same directory) is waited for; its
        // finished results are then reused below.
        let lock = try DirectoryLock(directory: directory, wait: true)
        defer { withExtendedLifetime(lock) {} }
        if let (history, model) = RunDirectory.finishedRun(in: directory, config: run.config) {
            return RunResult(run: run, history: history, model: model, directory: directory, reused: true)
        }
        // An interrupted run continues from its last complete epoch.
        var trainer = try Trainer(config: run.config, train: train, test: test, backend: backend)
        if let saved = try? TrainingCheckpoint.history(in: directory), saved.config == run.config, !saved.isFinished,
           let resumed = try? TrainingCheckpoint.resume(from: directory, train: train, test: test, backend: backend) {
            trainer = resumed
        }
        trainer.checkpointDirectory = directory
        trainer.stopRequested = stopRequested
        let history = try trainer.run(observer: observer?(run, index, count))
        try RunDirectory.save(history: history, model: trainer.model, to: directory)
        if history.interrupted { throw StudyInterrupted(run: run.label, completedEpochs: history.epochs.count) }
        return RunResult(run: run, history: history, model: trainer.model, directory: directory, reused: false)
    }
}

/// A study stopped by Ctrl-C; running it again continues where it stopped.
public struct StudyInterrupted: Error, CustomStringConvertible {
    public let run: String
    public let completedEpochs: Int
    public var description: String { "interrupted during run '\(run)' after \(completedEpochs) complete epoch(s)" }
}

/// Runs a report needs that have not finished (their tasks failed, were cancelled, or have not run).
public struct UnfinishedRuns: Error, CustomStringConvertible {
    /// `study: 'label' in DIR`, one per run.
    public let runs: [String]
    public var description: String {
        "\(runs.count) run\(runs.count == 1 ? " has" : "s have") not finished, so the report cannot be written (train them: submit the same command again, or run it without --slurm):\n"
            + runs.map { "  " + $0 }.joined(separator: "\n")
    }
}

/// The work list and results shared by `run(_:concurrentRuns:)`'s workers.
private final class SharedJobs: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private(set) var slots: [[RunResult?]]
    private(set) var error: Error?

    init(slots: [[RunResult?]]) { self.slots = slots }

    func take(from jobs: [(study: Int, run: Int)]) -> (study: Int, run: Int)? {
        lock.withLock {
            guard error == nil, next < jobs.count else { return nil }
            next += 1
            return jobs[next - 1]
        }
    }

    func store(_ result: RunResult, at job: (study: Int, run: Int)) { lock.withLock { slots[job.study][job.run] = result } }

    func fail(_ failure: Error) { lock.withLock { if error == nil { error = failure } } }
}
