import CKernels
import FashionCore

/// Stochastic gradient descent as `torch.optim.SGD`:
/// g += wd·p; with momentum μ: b = μ·b + (1 − dampening)·g (b = g on the first step),
/// g = b (or g + μ·b with Nesterov); p −= lr·g.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    public private(set) var stepCount = 0
    private var slots = StateSlots()

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum requires a momentum and zero dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public var summary: String {
        "SGD(lr=\(learningRate), momentum=\(momentum), weight_decay=\(weightDecay), nesterov=\(nesterov ? "True" : "False"))"
    }

    public var state: [String: Tensor] { slots.tensors }

    public func restore(state: [String: Tensor], stepCount: Int, parameters: [Parameter]) throws {
        try slots.restore(state, expecting: [".momentum_buffer"], for: parameters)
        self.stepCount = stepCount
    }

    /// True when the update is plain `p −= lr·g`, which layers may apply inside their backward pass
    /// (`Optimizer.fusableSGDRate`).
    public var isPlain: Bool { momentum == 0 && weightDecay == 0 }

    public func step(_ parameters: [Parameter]) {
        stepCount += 1
        let lr = learningRate, mu = momentum, wd = weightDecay, damp = 1 - dampening, nesterov = nesterov
        for parameter in parameters {
            let p = parameter.value.data, g = parameter.gradient.data
            var b: UnsafeMutablePointer<Float>?
            var first = false
            if momentum != 0 {
                let slot = slots.slot(parameter.name + ".momentum_buffer", like: parameter)
                (b, first) = (slot.tensor.data, slot.isNew)
            }
            parallelFor(parameter.value.count, minimumChunk: 1 << 18) { range in
                fl_sgd_update(p + range.lowerBound, g + range.lowerBound, b.map { $0 + range.lowerBound }, range.count,
                              lr, wd, mu, damp, nesterov ? 1 : 0, first ? 1 : 0)
            }
        }
    }
}
