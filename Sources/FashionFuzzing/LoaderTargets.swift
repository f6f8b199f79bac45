import Foundation
import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionStudies
import FashionTraining

/// Well-formed files whose meaning lies, driven through the real loaders: a checkpoint through
/// `train --resume`'s (then one epoch of training), a model file through `evaluate`'s and `predict`'s (then a
/// forward pass and the evaluation's measurements), a run directory through `evaluate`'s and `plot`'s (then its
/// charts), a study file through `study`'s. The starting files are written by real training runs on a small
/// dataset made here, with small networks (an MLP with Adam, a CNN with BatchNorm and Dropout with SGD momentum,
/// a CNN with average pooling with AdamW and a schedule), so that a million inputs stay affordable.
extension FuzzTargets {
    static var checkpoint: FuzzTarget {
        .structured("checkpoint", summary: "checkpoint.safetensors through train --resume, then one epoch",
                    seeds: LoaderSeeds.shared.checkpoints, mutate: mutateFile(metadataKeys: checkpointKeys)) { file in
            let directory = LoaderSeeds.shared.scratch("checkpoint")
            try LoaderSeeds.write(file.encoded(), to: directory + "/" + RunDirectory.checkpointFile)
            let data = LoaderSeeds.shared.data
            let trainer = try TrainingCheckpoint.resume(from: directory, train: data.train, test: data.test)
            guard let metrics = try trainer.runEpoch() else { throw FuzzViolation("a resumed run trained no epoch") }
            try checkModel(trainer.model, config: trainer.config, what: "resumed model")
            _ = metrics
        }
    }

    static var modelFile: FuzzTarget {
        .structured("model-file", summary: "a model file through evaluate's and predict's loader, then evaluation",
                    seeds: LoaderSeeds.shared.modelFiles, mutate: mutateFile(metadataKeys: modelKeys)) { file in
            let path = LoaderSeeds.shared.scratch("model-file") + "/model.safetensors"
            try LoaderSeeds.write(file.encoded(), to: path)
            let (model, config) = try ModelFile.load(path)
            try checkModel(model, config: config, what: "loaded model")
        }
    }

    static var runDirectory: FuzzTarget {
        .structured("run-directory", summary: "metrics.json and model.safetensors through evaluate's and plot's loaders, then the charts",
                    seeds: LoaderSeeds.shared.runDirectories, mutate: { run, m in
                        if m.oneIn(3) {
                            TensorFileMutation.mutate(&run.model, &m, metadataKeys: modelKeys)
                        } else {
                            run.metrics = JSONMutation.mutate(run.metrics, &m)
                        }
                    }) { run in
            let directory = LoaderSeeds.shared.scratch("run-directory")
            try LoaderSeeds.write(Array(run.metrics.utf8), to: directory + "/" + RunDirectory.metricsFile)
            try LoaderSeeds.write(run.model.encoded(), to: directory + "/" + RunDirectory.modelFile)
            // plot: the history, the model when it loads, and the charts of both.
            let history = try RunDirectory.loadHistory(from: directory)
            let model = try? RunDirectory.loadModel(from: directory, config: history.config)
            try RunArtifacts.writeCharts(for: [RunForReport(label: "fuzz", history: history, model: model)], title: "fuzz",
                                         to: LoaderSeeds.shared.scratch("run-directory-charts"))
            // evaluate on a run directory.
            let (loaded, config) = try ModelFile.load(directory)
            try checkModel(loaded, config: config, what: "model of the run directory")
        }
    }

    static var studyMeaning: FuzzTarget {
        .structured("study-meaning", summary: "study files with lying settings through study's reader",
                    seeds: LoaderSeeds.studyFiles, mutate: { text, m in text = JSONMutation.mutate(text, &m) }) { text in
            let study = try StudyFile.parse(Data(text.utf8), name: "fuzz.json")
            guard !study.runs.isEmpty, study.runs.count <= StudyFile.maximumRuns else {
                throw FuzzViolation("a study of \(study.runs.count) runs was accepted")
            }
            if let problem = PathName.problem(with: study.name) { throw FuzzViolation("study name accepted: \(problem)") }
            for run in study.runs {
                if let problem = PathName.problem(with: run.label) { throw FuzzViolation("run label '\(run.label)' accepted: \(problem)") }
                do { try run.config.validate() } catch { throw FuzzViolation("run \(run.label) has settings train refuses: \(error)") }
            }
        }
    }

    static let checkpointKeys = ["format", "history", "optimizer_steps", "generator_state", "dropout_calls", ModelDescription.metadataKey]
    static let modelKeys = ["format", "fashionlab_config", "fashionlab_metrics", "history", ModelDescription.metadataKey]

    static func mutateFile(metadataKeys: [String]) -> @Sendable (inout TensorFile, inout Mutator) -> Void {
        { file, m in TensorFileMutation.mutate(&file, &m, metadataKeys: metadataKeys) }
    }

    /// What `predict` and `evaluate` do with a loaded model: a forward pass, probabilities per image, a picture
    /// classified, the evaluation's loss, confusion matrix, files and JSON. A model that loads must survive them,
    /// give one probability per class for every image, account for every image (predicted or not), and either
    /// classify the picture with finite probabilities or refuse it (``NoPrediction``) — whatever its outputs are.
    static func checkModel(_ model: Sequential, config: TrainingConfig, what: String) throws {
        let data = LoaderSeeds.shared.data
        let probabilities = model.probabilities(images: Array(data.test.images.prefix(2 * 784)), count: 2, encoding: config.encoding)
        guard probabilities.count == 2, probabilities.allSatisfy({ $0.count == FashionMNIST.classNames.count }) else {
            throw FuzzViolation("\(what) gives \(probabilities.map(\.count)) probabilities for 2 images")
        }
        let picture = Array("P5 28 28 255\n".utf8) + data.test.image(0)
        do {
            let classified = try model.classify(pictureBytes: picture, name: "fuzz.pgm", encoding: config.encoding)
            guard classified.top.allSatisfy({ $0.probability.isFinite }) else { throw FuzzViolation("\(what) classified a picture with \(classified.top)") }
        } catch is NoPrediction {}
        let report = try EvaluationReport.measure(model, named: "fuzz", on: data.test, encoding: config.encoding,
                                                  batchSize: config.effectiveEvaluationBatchSize)
        guard report.count == data.test.count, report.confusion.joined().reduce(0, +) + report.unpredicted == data.test.count else {
            throw FuzzViolation("\(what): the report counts \(report.confusion.joined().reduce(0, +)) + \(report.unpredicted) images of \(data.test.count)")
        }
        try RunArtifacts.writeEvaluation(report, dataset: data.test, to: LoaderSeeds.shared.scratch("evaluation"))
    }
}

/// A run directory's two files.
struct RunFiles: Sendable {
    var metrics: String
    var model: TensorFile
}

/// The starting files of the loader targets, written once per process by real (small) training runs.
final class LoaderSeeds: @unchecked Sendable {
    static let shared = LoaderSeeds()

    /// A small dataset of 28×28 images in ten classes: 32 to train on, 10 to validate on.
    let data: (train: Dataset, test: Dataset)
    let checkpoints: [TensorFile]
    let modelFiles: [TensorFile]
    let runDirectories: [RunFiles]
    let root: String

    private init() {
        root = LoaderSeeds.temporaryDirectory + "/fashionlab-fuzz-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        var generator = SeededGenerator(seed: 7)
        func dataset(_ count: Int) -> Dataset {
            let images = (0..<(count * 784)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            return try! Dataset(images: images, labels: (0..<count).map { UInt8($0 % 10) }, rows: 28, cols: 28)
        }
        data = (dataset(32), dataset(10))
        var checkpoints: [TensorFile] = [], models: [TensorFile] = [], runs: [RunFiles] = []
        for (index, (model, config)) in Self.runs().enumerated() {
            let directory = root + "/seed-\(index)"
            try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let (train, test) = data
            let trainer = try! model.map { try Trainer(model: $0, config: config, train: train, test: test) }
                ?? Trainer(config: config, train: train, test: test)
            trainer.checkpointDirectory = directory
            try! trainer.runEpoch()
            try! RunDirectory.save(history: trainer.history, model: trainer.model, to: directory)
            var checkpoint = TensorFile(try! Safetensors.read(directory + "/" + RunDirectory.checkpointFile))
            var modelFile = TensorFile(try! Safetensors.read(directory + "/" + RunDirectory.modelFile))
            for key in ["history", "fashionlab_metrics"] {
                checkpoint.metadata[key] = checkpoint.metadata[key].map(Self.withoutTimes)
                modelFile.metadata[key] = modelFile.metadata[key].map(Self.withoutTimes)
            }
            checkpoints.append(checkpoint)
            models += [modelFile, checkpoint]
            let metrics = try! String(contentsOfFile: directory + "/" + RunDirectory.metricsFile, encoding: .utf8)
            runs.append(RunFiles(metrics: Self.withoutTimes(metrics), model: modelFile))
        }
        // A plain PyTorch state_dict of an MLP (no metadata: the architecture is read from the shapes).
        var plain = TensorFile(Sequential.mlp(inputs: 784, hidden: [6], classes: 10).stateDict())
        plain.metadata = ["format": "pt"]
        models.append(plain)
        (self.checkpoints, modelFiles, runDirectories) = (checkpoints, models, runs)
    }

    /// The JSON `text` with every measured time set to 1 s: the same seed then makes the same inputs.
    static func withoutTimes(_ text: String) -> String {
        func clean(_ value: Any) -> Any {
            if var object = value as? [String: Any] {
                for key in object.keys { object[key] = ["trainSeconds", "evaluationSeconds"].contains(key) ? 1 : clean(object[key]!) }
                return object
            }
            if let array = value as? [Any] { return array.map(clean) }
            return value
        }
        let root = try! JSONSerialization.jsonObject(with: Data(text.utf8))
        return String(decoding: try! JSONSerialization.data(withJSONObject: clean(root), options: [.sortedKeys]), as: UTF8.self)
    }

    /// The runs the seeds come from: three small networks, three optimisers.
    private static func runs() -> [(Sequential?, TrainingConfig)] {
        var generator = SeededGenerator(seed: 3)
        var mlp = TrainingConfig()
        (mlp.hidden, mlp.optimizer, mlp.learningRate, mlp.batchSize, mlp.epochs) = ([8], .adam, 0.001, 16, 3)
        var cnn = TrainingConfig()
        (cnn.optimizer, cnn.momentum, cnn.nesterov, cnn.batchSize, cnn.epochs, cnn.augmentation) = (.sgd, 0.9, true, 16, 3, try! Augmentation(parsing: "flip,crop:2"))
        let convolutional = Sequential(inputShape: [1, 28, 28], [
            Conv2d(1, 2, kernel: 3, padding: 1, using: &generator), BatchNorm(2, spatial: true), ReLU(), MaxPool2d(2),
            Flatten(), Dropout(0.2, seed: 1), Linear(2 * 14 * 14, 10, using: &generator),
        ])
        var pooled = TrainingConfig()
        (pooled.optimizer, pooled.weightDecay, pooled.schedule, pooled.batchSize, pooled.epochs, pooled.labelSmoothing) =
            (.adamw, 0.01, .cosine(minimum: 0), 12, 4, 0.1)
        let averaging = Sequential(inputShape: [1, 28, 28], [
            Conv2d(1, 3, kernel: 3, stride: 2, using: &generator), ReLU(), AvgPool2d(2), Flatten(),
            Linear(3 * 6 * 6, 16, using: &generator), BatchNorm(16, spatial: false), ReLU(), Linear(16, 10, using: &generator),
        ])
        return [(nil, mlp), (convolutional, cnn), (averaging, pooled)]
    }

    static let studyFiles = [
        #"{"name": "s", "base": {"optimizer": "adam", "lr": 0.001, "epochs": 1, "hidden": [32, 16], "scale": false, "subset": 600}, "grid": {"batch-size": [32, 64], "seed": [0, 1, 2]}}"#,
        #"{"name": "aug", "base": {"model": "cnn", "epochs": 1}, "grid": {"augment": ["flip", "flip,crop:2", "none"], "schedule": ["cosine", "step:2:0.5"], "momentum": [0.9], "nesterov": [true], "weight-decay": [0.0001]}}"#,
        #"{"name": "own", "base": {"model": {"input_shape": [1, 28, 28], "layers": [{"type": "Flatten"}, {"type": "Linear", "in_features": 784, "out_features": 10}]}, "label-smoothing": 0.1, "normalize": true}, "grid": {"lr": [0.1, 0.01], "train-metrics": ["batches", "whole-set"]}}"#,
    ]

    /// The directory where `target` writes its inputs (each input overwrites the last one's files).
    func scratch(_ target: String) -> String {
        let directory = root + "/" + target
        if !FileManager.default.fileExists(atPath: directory) {
            try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        return directory
    }

    /// Memory-backed `/dev/shm` where there is one (a million files written cost no disk flushes), else the
    /// temporary directory.
    static var temporaryDirectory: String {
        access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (NSTemporaryDirectory() as NSString).standardizingPath
    }

    /// Writes an input file, without the atomic rename and fsync that FashionLab's own files get (a scratch
    /// file a million times over).
    static func write(_ bytes: [UInt8], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw FuzzViolation("cannot write \(path)") }
    }
}
