import Foundation
import FashionCore
import FashionEngine

/// The files of one run — their names, said here only — and how they are written and read: `metrics.json` and
/// `metrics.csv` (history), `model.safetensors` (weights under PyTorch's names, with the configuration, the metrics
/// and the model description in `__metadata__`), the checkpoint, the charts and report, and an evaluation's files.
public enum RunDirectory {
    public static let metricsFile = "metrics.json"
    public static let csvFile = "metrics.csv"
    public static let modelFile = "model.safetensors"
    /// The weights of the best epoch by the run's monitor, in the same format (evaluate and predict read it).
    public static let bestModelFile = "best.safetensors"
    /// The run's whole state after its last complete epoch (`TrainingCheckpoint`).
    public static let checkpointFile = "checkpoint.safetensors"
    /// The run's model as ONNX (`fashionlab export RUN --onnx`); a folder holding only this file is a model that
    /// `serve` lists and predicts with.
    public static let onnxFile = "model.onnx"
    /// Loss and accuracy curves; the histograms of each layer's weights; the confusion matrix on the test set.
    public static let curvesChart = "curves.svg", weightsChart = "weights.svg", confusionChart = "confusion.svg"
    /// The self-contained page of a run or a study; the lab's page, at the top of its folder.
    public static let reportPage = "report.html", labPage = "index.html"
    /// An evaluation's files (`fashionlab evaluate`, and `train` at the end of a run): the confusion matrix as text,
    /// the misclassified test images, the whole report as JSON.
    public static let confusionTable = "confusion.txt", misclassifiedPicture = "misclassified.png", evaluationFile = "evaluation.json"

    /// Everything a finished or interrupted run leaves in its directory, and an evaluation and an export of it beside
    /// them: what `train --force` removes, and nothing else.
    public static let runFiles = [metricsFile, csvFile, modelFile, bestModelFile, checkpointFile, curvesChart, weightsChart,
                                  confusionChart, reportPage, confusionTable, misclassifiedPicture, evaluationFile, onnxFile]

    /// The file that shows `directory` holds a run (`metrics.json` or the checkpoint), if any. A `metrics.json`
    /// with no finished epoch and no checkpoint beside it (a run killed in its first epoch: with `--log-every` the
    /// file is written during the epoch) holds nothing to keep or continue.
    public static func existingRun(in directory: String) -> String? {
        let exists = { FileManager.default.fileExists(atPath: directory + "/" + $0) }
        if exists(metricsFile), (try? loadHistory(from: directory))?.epochs.isEmpty != true { return metricsFile }
        return exists(checkpointFile) ? checkpointFile : nil
    }

    /// Writes the run's files into `directory` (created if needed), each atomically.
    public static func save(history: TrainingHistory, model: Sequential, to directory: String) throws {
        try saveHistory(history, to: directory)
        try AtomicFile.write(text: history.csv(), to: directory + "/" + csvFile)
        try saveModel(history: history, model: model, to: directory + "/" + modelFile)
    }

    /// Writes `metrics.json` atomically: at the end of a run, and while it trains (after every epoch and at
    /// `--log-every` points), so a dashboard (`fashionlab serve`) can follow it.
    public static func saveHistory(_ history: TrainingHistory, to directory: String) throws {
        let encoder = NonFiniteJSON.encoder([.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Array(try encoder.encode(history)), to: directory + "/" + metricsFile)
    }

    /// Writes `model` with the run's configuration, metrics and model description in its metadata to `path`,
    /// atomically: `model.safetensors`, or `best.safetensors` after a best epoch.
    public static func saveModel(history: TrainingHistory, model: Sequential, to path: String) throws {
        let encoder = NonFiniteJSON.encoder([.sortedKeys])
        var metadata = [
            "format": "pt",
            "fashionlab_version": FashionLabVersion.current,
            "fashionlab_config": String(decoding: try encoder.encode(history.config), as: UTF8.self),
            "fashionlab_metrics": String(decoding: try encoder.encode(history.epochs), as: UTF8.self),
        ]
        metadata[ModelDescription.metadataKey] = try ModelDescription(model).json()
        if let epoch = history.epochs.last?.epoch { metadata["fashionlab_epoch"] = String(epoch) }
        try model.stateDict(metadata: metadata).write(to: path)
    }

    /// Reads a run's history; the error names the file.
    public static func loadHistory(from directory: String) throws -> TrainingHistory {
        let path = directory + "/" + metricsFile
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunDirectoryError(path: path, message: FileManager.default.fileExists(atPath: directory) ? "no such file (is this a run directory?)" : "no such directory")
        }
        return try decodeHistory(data, path: path)
    }

    /// A history from the bytes of a `metrics.json` (`path` names it in errors), its settings validated.
    public static func decodeHistory(_ data: Data, path: String) throws -> TrainingHistory {
        let decoder = NonFiniteJSON.decoder()
        let history: TrainingHistory
        do {
            history = try decoder.decodeRefusingRepeatedKeys(TrainingHistory.self, from: data)
        } catch {
            throw RunDirectoryError(path: path, message: "not a FashionLab metrics file (\(error))")
        }
        do {
            try history.config.validate()
        } catch let problem as SettingProblem {
            throw RunDirectoryError(path: path, message: "config.\(problem)")
        }
        return history
    }

    /// The run in `directory`, when it is a finished run of `config`: its history and the model saved at its end.
    /// Both must agree: `metrics.json` is also written while a run trains, so a run killed between its last epoch
    /// and its final save has a finished history beside the model of an earlier, interrupted save (or none); the
    /// model file's `fashionlab_epoch` must be the history's last epoch.
    public static func finishedRun(in directory: String, config: TrainingConfig) -> (history: TrainingHistory, model: Sequential)? {
        let path = directory + "/" + modelFile
        guard let history = try? loadHistory(from: directory), history.config == config, history.isFinished,
              let file = try? Safetensors.read(path), file.metadata["fashionlab_epoch"] == history.epochs.last.map({ String($0.epoch) }),
              let model = try? config.buildModel(), (try? config.load(file, into: model, from: path)) != nil
        else { return nil }
        return (history, model)
    }

    /// Reads a run's model: the architecture from its configuration, the weights from the checkpoint.
    public static func loadModel(from directory: String, config: TrainingConfig) throws -> Sequential {
        let path = directory + "/" + modelFile
        let model = try config.buildModel()
        try config.load(Safetensors.read(path), into: model, from: path)
        return model
    }
}

/// A run directory that cannot be read.
public struct RunDirectoryError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}
