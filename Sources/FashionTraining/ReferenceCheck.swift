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

    /// Replays the case in `path` on `backend`; `train` supplies the batches after the first (nil: only
    /// the first step can run, and a case with more steps throws).
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
        guard let learningRate = Float(try metadata("lr")), let steps = Int(try metadata("steps")),
              let firstIndex = Int(try metadata("first_index")) else {
            throw ReferenceCheckError(message: "\(path): unreadable lr, steps or first_index in the metadata")
        }
        let scale = try metadata("scale") == "True"
        let names = ["0.weight": "w1", "0.bias": "b1", "2.weight": "w2", "2.bias": "b2"]

        let model = Sequential.mlp(inputs: 784, hidden: [1000], classes: 10)
        for parameter in model.parameters { parameter.value.copy(from: try floats("init_" + names[parameter.name]!)) }
        let optimizer: Optimizer = optimizerName == "sgd" ? SGD(learningRate: learningRate) : Adam(learningRate: learningRate)
        let stepper: ReferenceStepper = switch backend {
        case .cpu: CPUStepper(model: model, optimizer: optimizer)
        case .cuda(let device): try CUDAStepper(model: model, optimizer: optimizer, device: device)
        }

        var measurements: [Measurement] = []
        func measure(_ quantity: String, _ actual: [Float], _ expected: [Float], _ tolerance: Double) {
            measurements.append(Measurement(quantity: quantity, error: relativeError(actual, expected), tolerance: tolerance))
        }
        let losses = try floats("losses")
        for step in 0..<steps {
            let inputs: Tensor, labels: LabelBuffer
            if step == 0 {
                inputs = Tensor(shape: [32, 784], values: try floats("x"))
                guard let y = file["y"] else { throw ReferenceCheckError(message: "\(path) has no tensor y") }
                labels = LabelBuffer(y.integers().map(Int32.init))
            } else {
                guard let train else {
                    throw ReferenceCheckError(message: "step \(step + 1) of \(path) needs the Fashion-MNIST training set")
                }
                let start = firstIndex + 32 * step
                let batches = BatchIterator(dataset: train.subset(start..<(start + 32)), batchSize: 32, shuffle: false,
                                            encoding: PixelEncoding(scale: scale))
                (inputs, labels) = batches.load(batch: 0)
            }
            let result = try stepper.step(inputs: inputs, labels: labels)
            if step == 0 { measure("logits", result.logits, try floats("logits"), 1e-5) }
            measure("loss, step \(step + 1)", [result.loss], [losses[step]], 1e-5)
            if step == 0 {
                for (name, gradient) in result.gradients { measure("gradient of \(name)", gradient, try floats("grad_" + names[name]!), 1e-5) }
            }
        }
        let tolerance = optimizerName == "sgd" ? 1e-5 : (scale ? 1e-3 : 5e-2)
        for (name, weights) in try stepper.finalWeights() {
            measure("\(name) after \(steps) step(s)", weights, try floats("final_" + names[name]!), tolerance)
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

/// One training step on a backend, with what the comparison reads.
private protocol ReferenceStepper {
    func step(inputs: Tensor, labels: LabelBuffer) throws -> (logits: [Float], loss: Float, gradients: [(String, [Float])])
    func finalWeights() throws -> [(String, [Float])]
}

private struct CPUStepper: ReferenceStepper {
    let model: Sequential
    let optimizer: Optimizer
    let criterion = SoftmaxCrossEntropy()

    func step(inputs: Tensor, labels: LabelBuffer) throws -> (logits: [Float], loss: Float, gradients: [(String, [Float])]) {
        model.zeroGradients()
        let logits = model.forward(inputs, training: true)
        let result = criterion(logits, labels)
        model.backward(criterion.gradient!)
        let gradients = model.parameters.map { ($0.name, $0.gradient.toArray()) }
        let values = logits.toArray()
        optimizer.step(model.parameters)
        return (values, result.loss, gradients)
    }

    func finalWeights() throws -> [(String, [Float])] { model.parameters.map { ($0.name, $0.value.toArray()) } }
}

private struct CUDAStepper: ReferenceStepper {
    let model: CUDAModel
    let optimizer: CUDAOptimizer
    let device: CUDADevice
    let inputs: DeviceBuffer, labels: DeviceBuffer, logitsGradient: DeviceBuffer, lossSum: DeviceBuffer, correct: DeviceBuffer

    init(model host: Sequential, optimizer: Optimizer, device: CUDADevice) throws {
        try device.makeCurrent()
        self.device = device
        model = try CUDAModel(host, device: device)
        self.optimizer = try CUDAOptimizer(optimizer, model: model)
        inputs = try device.allocate(32 * 784)
        labels = try device.allocate(32, of: Int32.self)
        logitsGradient = try device.allocate(32 * 10)
        lossSum = try device.allocate(1, of: Double.self)
        correct = try device.allocate(1, of: UInt32.self)
    }

    func step(inputs x: Tensor, labels y: LabelBuffer) throws -> (logits: [Float], loss: Float, gradients: [(String, [Float])]) {
        let rows = y.count
        try device.upload(x.data, count: x.count, to: inputs)
        try device.upload(y.data, count: rows, to: labels)
        try device.zero(lossSum)
        let logits = try model.forward(input: inputs.address, rows: rows)
        try device.softmaxCrossEntropy(logits: logits, labels: labels, rows: rows, classes: 10, gradient: logitsGradient,
                                       lossSum: lossSum, correct: correct, scale: 1 / Float(rows))
        try model.backward(outputGradient: logitsGradient.address, rows: rows)
        var values = [Float](repeating: 0, count: rows * 10), loss = 0.0
        try values.withUnsafeMutableBufferPointer {
            try device.download(from: logits, count: $0.count, into: $0.baseAddress!)
        }
        try device.download(lossSum, count: 1, into: &loss)
        var gradients: [(String, [Float])] = []
        for (parameter, offset) in zip(model.host.parameters, model.offsets) {
            var gradient = [Float](repeating: 0, count: parameter.value.count)
            try gradient.withUnsafeMutableBufferPointer { try device.download(model.gradients, offset: offset, count: $0.count, into: $0.baseAddress!) }
            gradients.append((parameter.name, gradient))
        }
        try optimizer.step()
        return (values, Float(loss), gradients)
    }

    func finalWeights() throws -> [(String, [Float])] {
        try model.download()
        return model.host.parameters.map { ($0.name, $0.value.toArray()) }
    }
}
