import Foundation
import FashionData
import FashionEngine

/// Compares FashionLab's numbers with PyTorch's own, on a backend: the `reference/*.safetensors` files
/// (GUIDE §4) hold the notebook's MLP with its initial weights, a first batch, its logits, loss and
/// gradients, and the weights after a few optimiser steps over consecutive batches of the training set.
///
/// Each quantity is measured as max |a − b| / max |b| and held to GUIDE §4's tolerance: 1e-5 for logits,
/// losses and gradients, 1e-5 for weights after SGD, 1e-3 after Adam, 5e-2 after Adam on unscaled inputs.
/// The test suite runs it on every backend present; `fashionlab verify` runs it where no toolchain is.
public enum ReferenceCheck {
    /// The reference files, by name (without `.safetensors`).
    public static let caseNames = ["mlp_sgd_1step", "mlp_adam_3steps", "mlp_adam_unscaled_2steps"]

    /// One compared quantity.
    public struct Measurement: Sendable, Codable {
        public let quantity: String
        public let error: Double
        public let tolerance: Double
        public var passed: Bool { error < tolerance }
    }

    /// Replays the case in `path` on `backend`, through the same `TrainingEngine` that training uses: the steps'
    /// batches come from `train` (consecutive batches of 32 from the case's first index, in file order). Plain
    /// SGD is replayed twice: keeping the gradients (to compare them), and fused into the backward pass as
    /// training runs it (its weights compared again).
    public static func run(_ path: String, train: Dataset?, backend: ComputeBackend) throws -> [Measurement] {
        let file = try Safetensors.read(path)
        func floats(_ key: String) throws -> [Float] {
            guard let entry = file[key] else { throw ReferenceCheckError(message: "\(path) has no tensor \(key)") }
            return entry.floats()
        }
        func metadata(_ key: String) throws -> String {
            guard let value = file.metadata[key] else { throw ReferenceCheckError(message: "\(path) has no metadata \(key)") }
            return value
        }
        let optimizerName = try metadata("optimizer")
        guard let learningRate = Float(try metadata("lr")), let steps = Int(try metadata("steps")), steps > 0,
              let firstIndex = Int(try metadata("first_index")), firstIndex >= 0 else {
            throw ReferenceCheckError(message: "\(path): unreadable lr, steps or first_index in the metadata")
        }
        let scale = try metadata("scale") == "True"
        let names = ["0.weight": "w1", "0.bias": "b1", "2.weight": "w2", "2.bias": "b2"]
        let initial = try names.mapValues { try floats("init_" + $0) }
        let losses = try floats("losses")
        guard let train, firstIndex + 32 * steps <= train.count else {
            throw ReferenceCheckError(message: "\(path) needs the Fashion-MNIST training set (\(steps) batches of 32 from image \(firstIndex))")
        }
        let batches = train.subset(firstIndex..<(firstIndex + 32 * steps))

        var measurements: [Measurement] = []
        func measure(_ quantity: String, _ actual: [Float], _ expected: [Float], _ tolerance: Double) {
            measurements.append(Measurement(quantity: quantity, error: relativeError(actual, expected), tolerance: tolerance))
        }
        /// Trains `steps` steps from the initial weights; with `fused`, as training runs plain SGD.
        func replay(fused: Bool) throws -> Sequential {
            let model = Sequential.mlp(inputs: 784, hidden: [1000], classes: 10)
            for parameter in model.parameters { parameter.value.copy(from: initial[parameter.name]!) }
            let optimizer: Optimizer = optimizerName == "sgd" ? SGD(learningRate: learningRate) : Adam(learningRate: learningRate)
            let setup = TrainingSetup(optimizer: optimizer, data: batches, plan: BatchPlan(count: batches.count, batchSize: 32, shuffle: false))
            let engine = try backend.makeEngine(for: model, encoding: PixelEncoding(scale: scale), training: setup)
            engine.fusesOptimizerIntoBackward = fused
            try engine.startEpoch()
            var lossSum = 0.0
            for step in 0..<steps {
                _ = try engine.trainStep(batch: step, learningRate: learningRate)
                guard !fused else { continue }
                if step == 0 {
                    let (logits, gradients) = try engine.lastStep()
                    measure("logits", logits, try floats("logits"), 1e-5)
                    for (name, gradient) in gradients { measure("gradient of \(name)", gradient, try floats("grad_" + names[name]!), 1e-5) }
                }
                let total = try engine.epochTotals().lossSum
                measure("loss, step \(step + 1)", [Float(total - lossSum)], [losses[step]], 1e-5)
                lossSum = total
            }
            try engine.synchronizeHost()
            return model
        }
        let tolerance = optimizerName == "sgd" ? 1e-5 : (scale ? 1e-3 : 5e-2)
        for parameter in try replay(fused: false).parameters {
            measure("\(parameter.name) after \(steps) step(s)", parameter.value.toArray(), try floats("final_" + names[parameter.name]!), tolerance)
        }
        if optimizerName == "sgd" {
            for parameter in try replay(fused: true).parameters {
                measure("\(parameter.name) after \(steps) step(s), SGD fused", parameter.value.toArray(),
                        try floats("final_" + names[parameter.name]!), tolerance)
            }
        }
        return measurements
    }

    /// max |a − b| / max |b|.
    public static func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
        precondition(actual.count == expected.count, "\(actual.count) values compared with \(expected.count)")
        let scale = expected.map { abs(Double($0)) }.max() ?? 1
        let difference = zip(actual, expected).map { abs(Double($0) - Double($1)) }.max() ?? 0
        return difference / max(scale, 1e-30)
    }
}

/// A reference file that cannot be used.
public struct ReferenceCheckError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
