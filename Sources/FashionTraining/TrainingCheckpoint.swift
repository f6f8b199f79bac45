import Foundation
import FashionCore
import FashionData
import FashionEngine

/// A run's complete state after an epoch, in one safetensors file (`checkpoint.safetensors`):
/// the weights under their `state_dict` names, the optimiser's state (`optimizer.<name>.exp_avg`, …),
/// the epoch's batch order (`batches.order`), and in `__metadata__` the configuration, the metrics so
/// far, the optimiser's step count and the shuffling generator's state. Resuming from it continues the
/// run exactly: same seed, same backend, bit-identical weights at the end.
public enum TrainingCheckpoint {

    /// Writes the trainer's state into `directory` atomically.
    public static func save(_ trainer: Trainer, to directory: String) throws {
        var file = trainer.model.stateDict()
        // In name order: the same run writes the same bytes.
        for (key, tensor) in trainer.optimizer.state.sorted(by: { $0.key < $1.key }) { file.set("optimizer." + key, tensor) }
        let order = trainer.plan.order
        file.set("batches.order", Safetensors.Entry(dtype: "I32", shape: [order.count], bytes: order.withUnsafeBytes { Array($0) }))
        let encoder = NonFiniteJSON.encoder([.sortedKeys])
        file.metadata = [
            "format": "fashionlab-checkpoint",
            "fashionlab_version": FashionLabVersion.current,
            "history": String(decoding: try encoder.encode(trainer.history), as: UTF8.self),
            "optimizer_steps": String(trainer.optimizer.stepCount),
            "generator_state": trainer.plan.generator.state.map(String.init).joined(separator: ","),
            "dropout_calls": trainer.model.layers.compactMap { ($0 as? Dropout)?.calls }.map(String.init).joined(separator: ","),
        ]
        file.metadata[ModelDescription.metadataKey] = try ModelDescription(trainer.model).json()
        try file.write(to: directory + "/" + RunDirectory.checkpointFile)
    }

    /// True when `directory` holds a checkpoint.
    public static func exists(in directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/" + RunDirectory.checkpointFile)
    }

    /// The history saved in a checkpoint (to see whether and how a run can continue).
    public static func history(in directory: String) throws -> TrainingHistory {
        try decode(Safetensors.read(directory + "/" + RunDirectory.checkpointFile), path: directory + "/" + RunDirectory.checkpointFile).0
    }

    /// A trainer that continues the run saved in `directory`, on `backend`.
    public static func resume(from directory: String, train: Dataset, test: Dataset?, backend: ComputeBackend = .cpu) throws -> Trainer {
        let path = directory + "/" + RunDirectory.checkpointFile
        let checkpoint = try Safetensors.read(path)
        let (history, steps, generator) = try decode(checkpoint, path: path)
        do { try history.config.modelDescription().validate() } catch { throw TrainingCheckpointError(message: "\(path): \(error)") }
        if let split = history.config.validationSplit, split >= min(train.count, history.config.trainingSubset ?? .max) {
            throw TrainingCheckpointError(message: "\(path): history.config.validationSplit \(split) leaves none of the \(train.count) training images to train on")
        }
        let trainer = try Trainer(config: history.config, train: train, test: test, backend: backend)
        var weights = Safetensors()
        var optimizerState: [String: Tensor] = [:]
        var order: [Int32] = []
        for name in checkpoint.names {
            let entry = checkpoint[name]!
            if name.hasPrefix("optimizer.") {
                guard entry.dtype == "F32" else { throw TrainingCheckpointError(message: "\(path): \(name) is \(entry.dtype), expected F32") }
                optimizerState[String(name.dropFirst("optimizer.".count))] = Tensor(shape: entry.shape, values: entry.floats())
            } else if name == "batches.order" {
                guard entry.dtype == "I32" else { throw TrainingCheckpointError(message: "\(path): batches.order is \(entry.dtype), expected I32") }
                order = entry.integers().map(Int32.init)
            } else {
                weights.set(name, entry)  // the model's; load says which do not belong there
            }
        }
        try history.config.load(weights, into: trainer.model, from: path)
        let dropouts = trainer.model.layers.compactMap { $0 as? Dropout }
        let calls = (checkpoint.metadata["dropout_calls"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        guard calls.count == dropouts.count else {
            throw TrainingCheckpointError(message: "\(path): dropout state for \(calls.count) layers, the model has \(dropouts.count)")
        }
        // Each training step draws one mask per dropout layer: a count above the steps is not this run's.
        if let bad = calls.first(where: { $0 > UInt64(steps) }) {
            throw TrainingCheckpointError(message: "\(path): dropout_calls \(bad) is more than the \(steps) optimizer steps of the run")
        }
        for (layer, count) in zip(dropouts, calls) { layer.calls = count }
        do {
            try trainer.restore(history: history, optimizerState: optimizerState, stepCount: steps, order: order, generator: generator)
        } catch let error as TrainingCheckpointError {
            throw TrainingCheckpointError(message: "\(path): \(error.message)")
        } catch {
            throw TrainingCheckpointError(message: "\(path): \(error)")
        }
        try restoreBestWeights(of: trainer, from: directory)
        return trainer
    }

    /// The best epoch's weights, from `best.safetensors`, for a run that may yet restore them (early stopping).
    private static func restoreBestWeights(of trainer: Trainer, from directory: String) throws {
        let history = trainer.history
        guard history.config.earlyStopping != nil, let best = history.bestEpoch else { return }
        guard best != history.epochs.count else {
            trainer.bestWeights = trainer.model.stateDict()
            return
        }
        let path = directory + "/" + RunDirectory.bestModelFile
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrainingCheckpointError(message: "\(path): missing; early stopping needs the weights of the best epoch (\(best)) to restore them")
        }
        let file = try Safetensors.read(path)
        guard file.metadata["fashionlab_epoch"] == String(best) else {
            throw TrainingCheckpointError(message: "\(path): holds epoch \(file.metadata["fashionlab_epoch"] ?? "?"), the run's best is epoch \(best)")
        }
        var weights = Safetensors()
        for name in file.names { weights.set(name, file[name]!) }
        try history.config.load(weights, into: history.config.buildModel(), from: path)  // the shapes fit
        trainer.bestWeights = weights
    }

    private static func decode(_ file: Safetensors, path: String) throws -> (TrainingHistory, Int, SeededGenerator) {
        guard file.metadata["format"] == "fashionlab-checkpoint", let historyText = file.metadata["history"] else {
            throw TrainingCheckpointError(message: "\(path): not a FashionLab training checkpoint")
        }
        let decoder = NonFiniteJSON.decoder()
        let history: TrainingHistory
        do {
            history = try decoder.decodeRefusingRepeatedKeys(TrainingHistory.self, from: Data(historyText.utf8))
        } catch {
            throw TrainingCheckpointError(message: "\(path): the saved history cannot be read (\(error))")
        }
        do {
            try history.config.validate()
        } catch let problem as SettingProblem {
            throw TrainingCheckpointError(message: "\(path): history.config.\(problem)")
        }
        guard let steps = file.metadata["optimizer_steps"].flatMap(Int.init), steps >= 0 else {
            throw TrainingCheckpointError(message: "\(path): missing or invalid optimizer_steps")
        }
        let words = (file.metadata["generator_state"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        guard let generator = SeededGenerator(state: words) else {
            throw TrainingCheckpointError(message: "\(path): missing or invalid generator_state")
        }
        return (history, steps, generator)
    }
}

/// A checkpoint that cannot be resumed from.
public struct TrainingCheckpointError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension Sequential {
    /// SHA-256 of every parameter's bytes in `state_dict` order: equal digests, bit-identical weights.
    public var weightsDigest: String {
        var hasher = SHA256()
        for parameter in parameters {
            hasher.update(Array(UnsafeRawBufferPointer(start: parameter.value.data, count: parameter.value.count * 4)))
        }
        return hasher.finalizeHex()
    }
}
