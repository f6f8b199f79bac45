import Foundation
import FashionCore
import FashionData
import FashionEngine

/// Compares FashionLab's numbers with PyTorch's own, on a backend. A reference file holds a network's initial
/// weights, a first batch, its logits, loss and gradients, and the weights after a few optimiser steps over
/// consecutive batches of the training set, computed by PyTorch in float64 and stored as float32. Two formats:
///
/// - the committed cases (`Tests/FashionTrainingTests/Fixtures/reference/*.safetensors`, written by
///   `scripts/make_reference_steps.py`): any network, described in the metadata's `model` (JSON), with tensors
///   `init.<name>`, `grad.<name>`, `final.<name>` and `final_buffers.<name>` by `state_dict` name, and every
///   step's images (`pixels`, `labels`), so they replay without the dataset;
/// - `../shared/reference/*.safetensors`, beside the checkout: the notebook's MLP 784→1000→10 (`init_w1`, `grad_b2`, …);
///   the steps after the first read the training set.
///
/// Each quantity is measured as max |a − b| / max |b| and held to docs/fidelity.md's tolerance: 1e-5 for logits,
/// losses and gradients, 1e-5 for weights after SGD, 1e-3 after Adam, 5e-2 after Adam on unscaled inputs.
/// One exception, met by a convolution's bias before a BatchNorm: when a parameter's reference gradient is
/// zero to rounding (below 1e-6 of the step's largest: the normalisation subtracts the bias out again), its
/// gradient is rounding noise, a sum of 25,088 terms per channel that cancel, so it is measured against the
/// largest gradient of the step and held to 1e-3 (PyTorch's own float32 run: 3.5e-5; a wrong gradient is of
/// the order of the largest, error ≈ 1). After Adam, whose normalised step turns that noise into steps of up
/// to about lr, the parameter and the running mean of the BatchNorm after it are held to 5e-2, as in the
/// unscaled case (PyTorch float32: 6.0e-3 and 1.3e-3; `scripts/make_reference_steps.py` prints these).
/// The test suite runs it on every backend present; `fashionlab verify` runs it where no toolchain is.
public enum ReferenceCheck {
    /// The shared reference files (`../shared/reference`), by name (without `.safetensors`).
    public static let caseNames = ["mlp_sgd_1step", "mlp_adam_3steps", "mlp_adam_unscaled_2steps"]

    /// The committed cases (`Tests/FashionTrainingTests/Fixtures/reference`), by name: the notebook's MLP with a
    /// 32-unit hidden layer after one SGD step, three Adam steps, two Adam steps on raw pixels, and a small CNN
    /// with BatchNorm after two Adam steps.
    public static let committedCaseNames = ["mlp32_sgd_1step", "mlp32_adam_3steps", "mlp32_adam_unscaled_2steps", "cnn_bn_adam_2steps"]

    /// Where the committed cases are in the package checkout, relative to it.
    public static let committedCasesPath = "Tests/FashionTrainingTests/Fixtures/reference"

    /// The folder of the committed cases: looked for above each of `startingPoints` (the installed binary's
    /// folder, the working directory), then in the checkout this library was built from. Nil when none has them.
    public static func committedCasesDirectory(searchingAbove startingPoints: [String]) -> String? {
        let manager = FileManager.default
        func hasCases(_ directory: String) -> Bool {
            manager.fileExists(atPath: directory + "/" + committedCaseNames[0] + ".safetensors")
        }
        for start in startingPoints {
            var directory = URL(fileURLWithPath: start).resolvingSymlinksInPath()
            for _ in 0..<8 {
                let candidate = directory.appendingPathComponent(committedCasesPath).path
                if hasCases(candidate) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        // Sources/FashionTraining/ReferenceCheck.swift → the package root.
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(committedCasesPath).path
        return hasCases(checkout) ? checkout : nil
    }

    /// True when the case in `path` replays only with the training set (the shared files: no `pixels`).
    public static func needsTrainingSet(_ path: String) throws -> Bool {
        try Safetensors.read(path)["pixels"] == nil
    }

    /// One compared quantity.
    public struct Measurement: Sendable, Codable {
        public let quantity: String
        public let error: Double
        public let tolerance: Double
        public var passed: Bool { error < tolerance }
    }

    /// Replays the case in `path` on `backend`, through the same `TrainingEngine` that training uses. The steps'
    /// images are the file's `pixels`, or for a file without them (the shared files) `train`'s, consecutive
    /// batches from the case's first index in file order; when both are there they must agree. Plain SGD is
    /// replayed twice: keeping the gradients (to compare them), and fused into the backward pass as training
    /// runs it (its weights compared again).
    public static func run(_ path: String, train: Dataset?, backend: ComputeBackend) throws -> [Measurement] {
        let reference = try ReferenceFile(path)
        let images = try reference.images(train: train)
        var measurements: [Measurement] = []
        func measure(_ quantity: String, _ actual: [Float], _ expected: [Float], _ tolerance: Double, scale: Double? = nil) {
            measurements.append(Measurement(quantity: quantity, error: relativeError(actual, expected, scale: scale), tolerance: tolerance))
        }
        let losses = try reference.floats("losses", count: reference.steps)
        let isAdam = reference.optimizer != "sgd"
        var zeroGradient: Set<String> = []

        /// Trains the case's steps from the initial weights; with `fused`, as training runs plain SGD.
        func replay(fused: Bool) throws -> Sequential {
            let model = try reference.makeModel()
            let optimizer: Optimizer = isAdam ? Adam(learningRate: reference.learningRate) : SGD(learningRate: reference.learningRate)
            let setup = TrainingSetup(optimizer: optimizer, data: images,
                                      plan: BatchPlan(count: images.count, batchSize: reference.batchSize, shuffle: false))
            let engine = try backend.makeEngine(for: model, encoding: PixelEncoding(scale: reference.scale), training: setup)
            engine.fusesOptimizerIntoBackward = fused
            try engine.startEpoch()
            var lossSum = 0.0
            for step in 0..<reference.steps {
                _ = try engine.trainStep(batch: step, learningRate: reference.learningRate)
                guard !fused else { continue }
                if step == 0 {
                    let (logits, gradients) = try engine.lastStep()
                    measure("logits", logits, try reference.floats("logits", count: logits.count), 1e-5)
                    let expected = try gradients.map { try reference.floats(reference.key(.gradient, $0.name), count: $0.values.count) }
                    let largest = expected.map { $0.map { abs(Double($0)) }.max() ?? 0 }.max() ?? 0
                    for (gradient, expected) in zip(gradients, expected) {
                        let own = expected.map { abs(Double($0)) }.max() ?? 0
                        if own < 1e-6 * largest {
                            zeroGradient.insert(gradient.name)
                            measure("gradient of \(gradient.name) (zero: against the largest)", gradient.values, expected, 1e-3, scale: largest)
                        } else {
                            measure("gradient of \(gradient.name)", gradient.values, expected, 1e-5)
                        }
                    }
                }
                let total = try engine.epochTotals().lossSum
                measure("loss, step \(step + 1)", [Float(total - lossSum)], [losses[step]], 1e-5)
                lossSum = total
            }
            try engine.synchronizeHost()
            return model
        }

        let tolerance = isAdam ? (reference.scale ? 1e-3 : 5e-2) : 1e-5
        let model = try replay(fused: false)
        for parameter in model.parameters {
            measure("\(parameter.name) after \(reference.steps) step(s)", parameter.value.toArray(),
                    try reference.floats(reference.key(.final, parameter.name), count: parameter.value.count),
                    isAdam && zeroGradient.contains(parameter.name) ? 5e-2 : tolerance)
        }
        for buffer in model.buffers where !buffer.isInteger {
            guard let expected = reference.file["final_buffers." + buffer.name] else { continue }
            let follows = buffer.name.split(separator: ".").first.flatMap { Int($0) }.map { "\($0 - 1).bias" }
            let drifts = isAdam && buffer.name.hasSuffix(".running_mean") && follows.map(zeroGradient.contains) == true
            let values = buffer.value.toArray()
            guard expected.shape.reduce(1, *) == values.count else { throw reference.error("final_buffers.\(buffer.name) has shape \(expected.shape)") }
            measure("\(buffer.name) after \(reference.steps) step(s)", values, expected.floats(), drifts ? 5e-2 : tolerance)
        }
        if !isAdam {
            for parameter in try replay(fused: true).parameters {
                measure("\(parameter.name) after \(reference.steps) step(s), SGD fused", parameter.value.toArray(),
                        try reference.floats(reference.key(.final, parameter.name), count: parameter.value.count), tolerance)
            }
        }
        return measurements
    }

    /// max |a − b| / max |b| (or / `scale` when given).
    public static func relativeError(_ actual: [Float], _ expected: [Float], scale: Double? = nil) -> Double {
        precondition(actual.count == expected.count, "\(actual.count) values compared with \(expected.count)")
        let scale = scale ?? expected.map { abs(Double($0)) }.max() ?? 1
        let difference = zip(actual, expected).map { abs(Double($0) - Double($1)) }.max() ?? 0
        return difference / max(scale, 1e-30)
    }
}

/// A reference file of either format, read and checked against what will use it.
private struct ReferenceFile {
    let path: String
    let file: Safetensors
    let optimizer: String
    let learningRate: Float
    let steps: Int
    let scale: Bool
    let firstIndex: Int
    /// The model's description (JSON) for the generic format; nil for the shared one.
    let description: String?
    /// The shared format's hidden width.
    let hidden: Int
    /// Shared format: `state_dict` name → the file's suffix (`0.weight` → `w1`); nil for the generic format.
    let sharedNames: [String: String]?
    let batchSize: Int
    let classes: Int

    enum Kind: String { case initial = "init", gradient = "grad", final = "final" }

    func error(_ message: String) -> ReferenceCheckError { ReferenceCheckError(message: "\(path): \(message)") }

    /// The tensor's name in the file.
    func key(_ kind: Kind, _ name: String) -> String {
        if let sharedNames { return kind.rawValue + "_" + (sharedNames[name] ?? name) }
        return kind.rawValue + "." + name
    }

    func entry(_ key: String) throws -> Safetensors.Entry {
        guard let entry = file[key] else { throw error("no tensor \(key)") }
        return entry
    }

    /// The tensor's values; there must be `count` of them.
    func floats(_ key: String, count: Int) throws -> [Float] {
        let values = try entry(key).floats()
        guard values.count == count else { throw error("tensor \(key) has \(values.count) values, \(count) expected") }
        return values
    }

    init(_ path: String) throws {
        self.path = path
        let file = try Safetensors.read(path)
        self.file = file
        func metadata(_ key: String) throws -> String {
            guard let value = file.metadata[key] else { throw ReferenceCheckError(message: "\(path) has no metadata \(key)") }
            return value
        }
        let optimizer = try metadata("optimizer")
        self.optimizer = optimizer
        guard optimizer == "sgd" || optimizer == "adam" else { throw ReferenceCheckError(message: "\(path): unknown optimizer \(optimizer)") }
        guard let learningRate = Float(try metadata("lr")), let steps = Int(try metadata("steps")), (1...100).contains(steps),
              let firstIndex = Int(try metadata("first_index")), firstIndex >= 0 else {
            throw ReferenceCheckError(message: "\(path): unreadable lr, steps or first_index in the metadata")
        }
        (self.learningRate, self.steps, self.firstIndex) = (learningRate, steps, firstIndex)
        scale = try metadata("scale") == "True"
        guard let y = file["y"], let logits = file["logits"], logits.shape.count == 2, logits.shape[0] == y.shape.reduce(1, *),
              logits.shape[0] > 0, logits.shape[1] > 0 else {
            throw ReferenceCheckError(message: "\(path): no tensors y and logits [batch, classes] that agree")
        }
        (batchSize, classes) = (logits.shape[0], logits.shape[1])

        description = file.metadata["model"]
        if description == nil {
            // The shared files: the notebook's MLP, its hidden width from the first layer's weights.
            sharedNames = ["0.weight": "w1", "0.bias": "b1", "2.weight": "w2", "2.bias": "b2"]
            guard let w1 = file["init_w1"], w1.shape.count == 2, w1.shape[1] == 784, (1...100_000).contains(w1.shape[0]) else {
                throw ReferenceCheckError(message: "\(path) has no tensor init_w1 of shape [hidden, 784]")
            }
            hidden = w1.shape[0]
        } else {
            sharedNames = nil
            hidden = 0
        }
        let model = try makeModel()  // checks the description against the weights once
        guard model.outputShape(for: model.inputShape) == [classes] else {
            throw ReferenceCheckError(message: "\(path): the network gives \(model.outputShape(for: model.inputShape)) outputs, the logits \(classes)")
        }
    }

    /// The network of the file's `model` metadata (a `ModelDescription`); its weights are replaced by the file's.
    private func network(_ json: String) throws -> Sequential {
        do {
            return try Sequential(description: ModelDescription.parse(Data(json.utf8), name: "model"), seed: 0)
        } catch {
            throw ReferenceCheckError(message: "\(path): \(error)")
        }
    }

    /// A new network with the file's initial weights.
    func makeModel() throws -> Sequential {
        let model = try description.map(network) ?? Sequential.mlp(inputs: 784, hidden: [hidden], classes: classes)
        for parameter in model.parameters {
            parameter.value.copy(from: try floats(key(.initial, parameter.name), count: parameter.value.count))
        }
        return model
    }

    /// Every step's images and labels: the file's `pixels` and `labels` (checked against `train` at `first_index`
    /// when given), or for a file without them `train`'s from `first_index`. The first batch must be `x` and `y`.
    func images(train: Dataset?) throws -> Dataset {
        let count = steps * batchSize
        let images: Dataset
        if let pixels = file["pixels"] {
            guard pixels.dtype == "U8", pixels.shape.count == 3, pixels.shape[0] == count, pixels.shape[1] * pixels.shape[2] == 784 else {
                throw error("pixels must be U8 [\(count), 28, 28], not \(pixels.dtype) \(pixels.shape)")
            }
            let labels = try entry("labels").integers()
            guard labels.count == count, labels.allSatisfy({ (0..<classes).contains($0) }) else {
                throw error("labels must be \(count) classes below \(classes)")
            }
            images = try Dataset(images: pixels.bytes, labels: labels.map { UInt8($0) }, rows: pixels.shape[1], cols: pixels.shape[2],
                                 classCount: classes, name: path)
            if let train {
                // The committed images must be the training set's, at first_index.
                guard firstIndex + count <= train.count, train.pixelsPerImage == 784,
                      train.subset(firstIndex..<(firstIndex + count)).images == images.images,
                      Array(train.labels[firstIndex..<(firstIndex + count)]) == images.labels else {
                    throw error("pixels and labels are not the training set's images \(firstIndex)..<\(firstIndex + count)")
                }
            }
        } else {
            guard let train, firstIndex + count <= train.count, train.pixelsPerImage == 784 else {
                throw error("needs the Fashion-MNIST training set (\(steps) batches of \(batchSize) from image \(firstIndex))")
            }
            images = train.subset(firstIndex..<(firstIndex + count))
        }
        // The first batch as the file encoded it: x = pixel (/ 255 when scaled), y its labels.
        let x = try floats("x", count: batchSize * 784), y = try entry("y").integers()
        let encoded = images.images[0..<(batchSize * 784)].map { scale ? Float($0) / 255 : Float($0) }
        guard ReferenceCheck.relativeError(encoded, x) < 1e-6, y == images.labels[0..<batchSize].map(Int.init) else {
            throw error("x and y are not the first batch of the steps' images")
        }
        return images
    }
}

/// A reference file that cannot be used.
public struct ReferenceCheckError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
