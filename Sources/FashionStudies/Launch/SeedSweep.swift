import FashionCore
import FashionData
import FashionEngine
import FashionTraining
import Foundation

/// The same run once per seed (`fashionlab train --seeds 0,1,2`), each in `DIRECTORY/seed-N`, then the report of
/// a study of one setting: each number's mean ± standard deviation, the curves with a band.
///
/// Running a sweep again reuses the seeds that finished with the same settings and continues the one that was
/// interrupted from its checkpoint, so a sweep stopped by Ctrl-C goes on where it stopped.
public struct SeedSweep {
    public var seeds: [UInt64]
    /// The folder of the seeds' runs and of the report.
    public var directory: String
    /// Replace a seed's directory that holds another run instead of refusing it (``RunAlreadyThere``).
    public var replacing: Bool

    public init(seeds: [UInt64], directory: String, replacing: Bool = false) {
        self.seeds = seeds
        self.directory = directory
        self.replacing = replacing
    }

    /// How a seed's run starts.
    public enum Start {
        /// Finished earlier with the same settings: not trained again.
        case reused(RunResult)
        /// Interrupted earlier: continues after its completed epochs.
        case resumed(Trainer)
        /// Trained from its first epoch.
        case new(Trainer)
    }

    /// The directory of `seed`'s run.
    public func directory(ofSeed seed: UInt64) -> String { directory + "/seed-\(seed)" }

    /// Trains every seed: `config` gives a seed's whole configuration, `started` is told how each starts
    /// (index, seed, directory), and `train` trains a trainer in its directory (the caller's own progress and
    /// interruption handling; ``TrainingRun/train(_:in:test:device:replacing:observer:)`` does the rest). Then
    /// writes `report.html`, `curves.svg` and `weights.svg` into ``directory`` and returns the study's result.
    public func run(config: (UInt64) throws -> TrainingConfig, data: FashionMNISTData, backend: ComputeBackend, device: String,
                    started: (Start, _ index: Int, _ seed: UInt64, _ directory: String) -> Void = { _, _, _, _ in },
                    train: (Trainer, _ directory: String) throws -> TrainingHistory) throws -> StudyResult {
        let name = URL(fileURLWithPath: directory).lastPathComponent
        var results: [RunResult] = []
        for (index, seed) in seeds.enumerated() {
            let config = try config(seed)
            let run = StudyRun(label: name, config: config)
            let seedDirectory = directory(ofSeed: seed)
            let start = try self.start(run, in: seedDirectory, data: data, backend: backend)
            started(start, index, seed, seedDirectory)
            switch start {
            case .reused(let result):
                results.append(result)
            case .resumed(let trainer), .new(let trainer):
                let history = try train(trainer, seedDirectory)
                results.append(RunResult(run: run, history: history, model: trainer.model, directory: seedDirectory, reused: false))
            }
        }
        let study = Study(name: name, kind: .custom, runs: results.map(\.run), showsWeights: true)
        let result = StudyResult(study: study, runs: results, trainingImages: data.train.count)
        try StudyFiles.write(result, language: .english, device: device, to: directory)
        return result
    }

    /// Reuses, continues or starts `run` in `directory`; refuses a directory holding another run unless ``replacing``.
    func start(_ run: StudyRun, in directory: String, data: FashionMNISTData, backend: ComputeBackend) throws -> Start {
        if let (history, model) = RunDirectory.finishedRun(in: directory, config: run.config) {
            return .reused(RunResult(run: run, history: history, model: model, directory: directory, reused: true))
        }
        if let saved = try? TrainingCheckpoint.history(in: directory), saved.config == run.config, !saved.isFinished {
            return .resumed(try TrainingCheckpoint.resume(from: directory, train: data.train, test: data.test, backend: backend))
        }
        if !replacing { try RunAlreadyThere.check(directory) }
        return .new(try Trainer(config: run.config, train: data.train, test: data.test, backend: backend))
    }
}
