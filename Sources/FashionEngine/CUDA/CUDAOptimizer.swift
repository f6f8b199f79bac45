import Foundation

/// The GPU side of an `SGD` or `Adam` optimiser: the same update, one kernel over every parameter of a
/// `CUDAModel` at once, with the state (momentum, moments) in device buffers laid out like the parameters.
///
/// The host optimiser stays the source of truth for hyperparameters (its `learningRate`, which schedules
/// change) and for checkpoints: `download()` writes the GPU state and step count back into it.
public final class CUDAOptimizer {
    public let host: Optimizer
    public let model: CUDAModel
    private var first: DeviceBuffer?   // SGD momentum or Adam exp_avg
    private var second: DeviceBuffer?  // Adam exp_avg_sq
    public private(set) var stepCount: Int
    /// SGD's momentum buffer holds a value (it is the gradient itself on the first step).
    private var momentumStarted = false

    public init(_ host: Optimizer, model: CUDAModel) throws {
        guard host is SGD || host is Adam else {
            throw CUDAError(message: "the CUDA backend runs SGD, Adam and AdamW, not \(host.summary)")
        }
        self.host = host
        self.model = model
        stepCount = host.stepCount
        try upload()
    }

    /// Names of the state tensors of one parameter, as the host optimiser keeps them.
    private var stateSuffixes: [String] {
        if let sgd = host as? SGD { return sgd.momentum != 0 ? [".momentum_buffer"] : [] }
        return [".exp_avg", ".exp_avg_sq"]
    }

    /// Copies the host optimiser's state (after a resume) to the GPU.
    public func upload() throws {
        let suffixes = stateSuffixes
        let buffers = try suffixes.map { _ in try model.device.allocate(model.parameterCount) }
        first = buffers.first
        second = buffers.count > 1 ? buffers[1] : nil
        let state = host.state
        momentumStarted = false
        for (parameter, offset) in zip(model.host.parameters, model.offsets) {
            for (suffix, buffer) in zip(suffixes, buffers) {
                guard let tensor = state[parameter.name + suffix] else { continue }
                try model.device.upload(tensor.data, count: tensor.count, to: buffer, offset: offset)
                momentumStarted = true
            }
        }
    }

    /// Writes the GPU state and step count into the host optimiser (for checkpoints).
    public func download() throws {
        let suffixes = stateSuffixes
        let buffers = [first, second].compactMap { $0 }
        var state: [String: Tensor] = [:]
        if stepCount > 0 {
            for (parameter, offset) in zip(model.host.parameters, model.offsets) {
                for (suffix, buffer) in zip(suffixes, buffers) {
                    let tensor = Tensor(shape: parameter.value.shape)
                    try model.device.download(buffer, offset: offset, count: tensor.count, into: tensor.data)
                    state[parameter.name + suffix] = tensor
                }
            }
        }
        try host.restore(state: state, stepCount: stepCount)
    }

    /// For plain SGD, the rate a backward pass can apply the update with (`CUDAModel.backward(fusedSGDRate:)`),
    /// sparing the gradient buffer a write and a read; nil for the other optimisers.
    public var fusableSGDRate: Float? { (host as? SGD)?.isPlain == true && model.canFuseSGD ? host.learningRate : nil }

    /// One update of every parameter from its gradient; only the step count when `fusedIntoBackward`
    /// (the backward pass already applied plain SGD with `fusableSGDRate`).
    public func step(fusedIntoBackward: Bool = false) throws {
        stepCount += 1
        guard !fusedIntoBackward else { return }
        let n = model.parameterCount, p = model.parameters, g = model.gradients
        if let sgd = host as? SGD {
            try model.device.launch("sgd_update", covering: n, [
                .buffer(p), .buffer(g), .buffer(first), .long(n), .float(sgd.learningRate), .float(sgd.weightDecay),
                .float(sgd.momentum), .float(1 - sgd.dampening), .int(sgd.nesterov ? 1 : 0), .int(momentumStarted ? 0 : 1),
            ])
            momentumStarted = first != nil
        } else if let adam = host as? Adam {
            let t = Double(stepCount)
            let stepSize = Float(Double(adam.learningRate) / (1 - pow(Double(adam.beta1), t)))
            let inverseCorrection2 = Float(1 / (1 - pow(Double(adam.beta2), t)).squareRoot())
            try model.device.launch("adam_update", covering: n, [
                .buffer(p), .buffer(g), .buffer(first), .buffer(second), .long(n), .float(adam.beta1), .float(adam.beta2),
                .float(adam.epsilon), .float(stepSize), .float(inverseCorrection2),
                .float(adam.decoupled ? 0 : adam.weightDecay), .float(adam.decoupled ? 1 - adam.learningRate * adam.weightDecay : 1),
            ])
        }
    }
}
