import Foundation
import CKernels
import FashionCore

/// Adam as `torch.optim.Adam`, or AdamW (`decoupled: true`) as `torch.optim.AdamW`, in one fused pass:
/// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
/// p −= (lr/(1−β1ᵗ)) · m / (√v/√(1−β2ᵗ) + ε).
/// Adam adds weight decay to the gradient (g += wd·p); AdamW decays the weight itself (p −= lr·wd·p).
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let decoupled: Bool
    public private(set) var stepCount = 0
    private var slots = StateSlots()

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    public var summary: String {
        "\(decoupled ? "AdamW" : "Adam")(lr=\(learningRate), betas=(\(beta1), \(beta2)), eps=\(epsilon), weight_decay=\(weightDecay))"
    }

    public var state: [String: Tensor] { slots.tensors }

    public func restore(state: [String: Tensor], stepCount: Int, parameters: [Parameter]) throws {
        try slots.restore(state, expecting: [".exp_avg", ".exp_avg_sq"], for: parameters)
        self.stepCount = stepCount
    }

    /// The numbers step `t` (from 1) computes once for every parameter; both engines' kernels take them.
    public struct StepScalars: Sendable {
        /// lr / (1 − β1ᵗ).
        public let stepSize: Float
        /// 1 / √(1 − β2ᵗ).
        public let inverseCorrection2: Float
        /// Weight decay added to the gradient (Adam), 0 for AdamW.
        public let coupledDecay: Float
        /// The weights' factor before the step: 1 − lr·wd for AdamW, 1 for Adam.
        public let shrink: Float
    }

    /// The scalars of step `t` at the current learning rate, computed in double as PyTorch does.
    public func scalars(forStep t: Int) -> StepScalars {
        let biasCorrection1 = 1 - pow(Double(beta1), Double(t))
        let biasCorrection2Sqrt = (1 - pow(Double(beta2), Double(t))).squareRoot()
        return StepScalars(stepSize: Float(Double(learningRate) / biasCorrection1), inverseCorrection2: Float(1 / biasCorrection2Sqrt),
                           coupledDecay: decoupled ? 0 : weightDecay, shrink: decoupled ? 1 - learningRate * weightDecay : 1)
    }

    public func step(_ parameters: [Parameter]) {
        stepCount += 1
        let scalars = scalars(forStep: stepCount)
        let (stepSize, inverseCorrection2, coupledDecay, shrink) = (scalars.stepSize, scalars.inverseCorrection2, scalars.coupledDecay, scalars.shrink)
        let b1 = beta1, b2 = beta2, eps = epsilon

        for parameter in parameters {
            let p = parameter.value.data, g = parameter.gradient.data
            let m = slots.slot(parameter.name + ".exp_avg", like: parameter).tensor.data
            let v = slots.slot(parameter.name + ".exp_avg_sq", like: parameter).tensor.data
            // Split across cores only for large tensors: a thread hand-off costs more than a small update.
            parallelFor(parameter.value.count, minimumChunk: 1 << 18) { range in
                fl_adam_update(p + range.lowerBound, g + range.lowerBound, m + range.lowerBound, v + range.lowerBound,
                               range.count, b1, b2, eps, stepSize, inverseCorrection2, coupledDecay, shrink)
            }
        }
    }
}
