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
        try host.restore(state: state, stepCount: stepCount, parameters: model.host.parameters)
    }

    /// One update from the gradients, of the parameter values in `ranges` of the model's flat buffer
    /// (`CUDAModel.rangesLeftToOptimizer`: all of them, unless a backward pass applied plain SGD to some).
    /// The step count advances once either way.
    public func step(ranges: [Range<Int>]) throws {
        stepCount += 1
        for range in ranges {
            let n = range.count, p = model.parameters.address(at: range.lowerBound), g = model.gradients.address(at: range.lowerBound)
            let m = first?.address(at: range.lowerBound) ?? 0, v = second?.address(at: range.lowerBound) ?? 0
            if let sgd = host as? SGD {
                try model.device.launch("sgd_update", covering: n, [
                    .address(p), .address(g), .address(m), .long(n), .float(sgd.learningRate), .float(sgd.weightDecay),
                    .float(sgd.momentum), .float(1 - sgd.dampening), .int(sgd.nesterov ? 1 : 0), .int(momentumStarted ? 0 : 1),
                ])
            } else if let adam = host as? Adam {
                let scalars = adam.scalars(forStep: stepCount)
                try model.device.launch("adam_update", covering: n, [
                    .address(p), .address(g), .address(m), .address(v), .long(n), .float(adam.beta1), .float(adam.beta2),
                    .float(adam.epsilon), .float(scalars.stepSize), .float(scalars.inverseCorrection2),
                    .float(scalars.coupledDecay), .float(scalars.shrink),
                ])
            }
        }
        if host is SGD { momentumStarted = first != nil }
    }
}
