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

    public func restore(state: [String: Tensor], stepCount: Int) throws {
        try slots.restore(state, expecting: [".momentum_buffer"])
        self.stepCount = stepCount
    }

    /// True when the update is plain `p −= lr·g`, which a layer may apply inside its gradient GEMM.
    public var isPlain: Bool { momentum == 0 && weightDecay == 0 }

    public func step(_ parameters: [Parameter]) {
        stepCount += 1
        let lr = learningRate, mu = momentum, wd = weightDecay, damp = 1 - dampening, nesterov = nesterov
        for parameter in parameters {
            let p = parameter.value.data, g = parameter.gradient.data
            let count = parameter.value.count
            guard momentum != 0 else {
                parallelFor(count, minimumChunk: 1 << 16) { range in
                    for i in range { p[i] -= lr * (g[i] + wd * p[i]) }
                }
                continue
            }
            let (buffer, isNew) = slots.slot(parameter.name + ".momentum_buffer", like: parameter)
            let b = buffer.data
            parallelFor(count, minimumChunk: 1 << 16) { range in
                for i in range {
                    let gradient = g[i] + wd * p[i]
                    b[i] = isNew ? gradient : mu * b[i] + damp * gradient
                    p[i] -= lr * (nesterov ? gradient + mu * b[i] : b[i])
                }
            }
        }
    }
}
