/// The fusions both engines make, decided once per model by `Sequential` (the same rule on the CPU and the
/// GPU); how each engine carries them out is its own business.
///
/// - A ReLU right after a layer that `AppliesFollowingReLU` (Linear: with its bias; BatchNorm: with its
///   normalisation) is applied by that layer, one pass over the activations less each way; the ReLU then
///   passes values and gradients through.
/// - Plain SGD (`Optimizer.fusableSGDRate`) is applied by layers that `UpdateInBackward` (Linear: the
///   weight-gradient GEMM writes into the weights) inside the backward pass; the optimiser updates the other
///   parameters (`Sequential.parametersLeftToOptimizer`).

/// A layer that can apply a ReLU that follows it. Set by `Sequential`.
protocol AppliesFollowingReLU: Layer {
    var appliesReLU: Bool { get set }
}

/// A layer that can apply plain SGD, `p −= rate · gradient`, to its own parameters in its backward pass.
protocol UpdatesInBackward: Layer {
    /// `backward`, with the update applied instead of the gradients stored.
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool, sgdRate: Float) -> Tensor?
}

extension Optimizer {
    /// The rate a backward pass applies the update with when this is plain SGD (no momentum, no weight decay);
    /// nil for every other optimiser. Both engines fuse by this rule.
    public var fusableSGDRate: Float? { (self as? SGD)?.isPlain == true ? learningRate : nil }
}
