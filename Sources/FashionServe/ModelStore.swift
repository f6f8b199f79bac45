import Foundation
import FashionCharts
import FashionData
import FashionEngine
import FashionImaging
import FashionTraining

/// The work that runs a model: predictions, weight histograms and confusion matrices.
///
/// It all happens on one serial queue, off Swift's cooperative threads (a 12-megapixel JPEG takes a while to
/// decode, and the server must keep answering meanwhile): a `Sequential` keeps its activations between forward
/// and backward, so one model must never run two forward passes at once, and on the two cores a student's
/// laptop or this machine has, one at a time is as fast as several. Loaded models are kept, the
/// ``maxModels`` used last, each until its file changes.
final class ModelStore: @unchecked Sendable {
    let folder: RunsFolder
    /// Where the test set is looked for (for confusion matrices): `--data`, then FashionLab's usual places.
    let dataDirectory: String?
    static let maxModels = 8
    private let queue = DispatchQueue(label: "fashionlab.serve.models")
    // Touched on `queue` only.
    private var models: [(key: String, model: Sequential, config: TrainingConfig)] = []
    private var confusions: [String: ConfusionResult] = [:]
    private var testSet: Result<Dataset, ServeError>?

    init(folder: RunsFolder, dataDirectory: String?) {
        self.folder = folder
        self.dataDirectory = dataDirectory
    }

    /// Runs `work` on the queue and waits for it without holding a cooperative thread.
    func perform<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Classifies a picture's bytes with `run`'s model (`Sequential.classify(pictureBytes:name:encoding:count:)`,
    /// as `fashionlab predict` does).
    func classify(_ bytes: [UInt8], run: RunRecord) async throws -> PictureClassification {
        try await perform {
            let (model, config) = try self.model(of: run)
            do {
                return try model.classify(pictureBytes: bytes, name: "the upload", encoding: config.encoding)
            } catch let error as ImageError {
                throw ServeError(.unprocessableContent, "\(error)")
            } catch let error as NoPrediction {
                throw ServeError(.unprocessableContent, "\(run.id): \(error)")
            }
        }
    }

    /// The histograms of `run`'s weights, as the reports draw them.
    func weightsChart(_ run: RunRecord, words: DashboardWords) async throws -> String {
        try await perform {
            let (model, _) = try self.model(of: run)
            let history = run.history ?? TrainingHistory(config: TrainingConfig())
            guard let svg = RunCharts.weights([RunForReport(label: run.components.last!, history: history, model: model)],
                                              title: words.weightsTitle, words: words.chart) else {
                throw ServeError(.notFound, "\(run.id): the model has no parameters to show")
            }
            return svg
        }
    }

    /// `run`'s model on the 10,000 test images (counts[true][predicted], each class's accuracy, the images it gave
    /// no prediction), measured once per model file.
    func confusion(_ run: RunRecord) async throws -> ConfusionResult {
        try await perform {
            let key = try self.key(of: run)
            if let result = self.confusions[key] { return result }
            let test = try self.loadTestSet()
            let (model, config) = try self.model(of: run)
            let counts = model.confusionMatrix(on: test, encoding: config.encoding, batchSize: config.effectiveEvaluationBatchSize)
            let result = ConfusionResult(counts: counts, classTotals: test.classCounts)
            if self.confusions.count >= 64 { self.confusions.removeAll() }
            self.confusions[key] = result
            return result
        }
    }

    /// The run's model file and its time and size: a changed file is a new key.
    private func key(of run: RunRecord) throws -> String {
        guard let file = run.modelFile, let info = folder.info(run.components, file) else {
            throw ServeError(.notFound, "\(run.id): no model yet (model.safetensors or checkpoint.safetensors is written after the first epoch)")
        }
        return run.id + "/" + file + "@" + RunCatalogue.stamp(info)
    }

    /// The run's model, loaded with the project's loader (`ModelFile`) from bytes read through
    /// ``RunsFolder`` (no link followed); kept for the next request.
    private func model(of run: RunRecord) throws -> (Sequential, TrainingConfig) {
        let key = try key(of: run)
        if let index = models.firstIndex(where: { $0.key == key }) {
            let entry = models.remove(at: index)
            models.append(entry)
            return (entry.model, entry.config)
        }
        let name = run.id + "/" + run.modelFile!
        let bytes = try folder.read(run.components, run.modelFile!)
        let loaded: (model: Sequential, config: TrainingConfig)
        do {
            loaded = try ModelFile.load(Safetensors.parse(bytes, name: name), path: name)
        } catch {
            throw ServeError(.unprocessableContent, "\(error)")
        }
        models.removeAll { $0.key.hasPrefix(run.id + "/") }
        models.append((key, loaded.model, loaded.config))
        if models.count > Self.maxModels { models.removeFirst() }
        return loaded
    }

    private func loadTestSet() throws -> Dataset {
        if testSet == nil {
            var loader = FashionMNISTLoader(locator: DataLocator(explicitDirectory: dataDirectory))
            loader.allowDownload = false
            do {
                testSet = .success(try loader.load().test)
            } catch {
                testSet = .failure(ServeError(.notFound, "no test set to measure the confusion matrix on (give fashionlab serve --data DIR): \(error)"))
            }
        }
        return try testSet!.get()
    }
}
