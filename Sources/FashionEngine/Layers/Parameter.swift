/// A trainable tensor and its gradient.
///
/// Gradients accumulate (`+=`) across backward passes until `zeroGradient()`; zeroing is lazy
/// (a flag) so a training step does not spend a pass over every weight clearing memory that the
/// next backward pass overwrites anyway.
public final class Parameter: @unchecked Sendable {
    /// The name in PyTorch's `state_dict` (`0.weight`, `2.bias`, …), set by the model.
    public internal(set) var name: String
    public let value: Tensor
    private let storedGradient: Tensor
    /// True while the gradient is logically zero and its memory not yet cleared.
    public private(set) var gradientIsZero = true

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        storedGradient = Tensor(shape: value.shape)
    }

    /// Marks the gradient as zero.
    public func zeroGradient() {
        gradientIsZero = true
    }

    /// The gradient, cleared first if it is logically zero.
    public var gradient: Tensor {
        if gradientIsZero {
            storedGradient.fill(0)
            gradientIsZero = false
        }
        return storedGradient
    }

    /// The gradient buffer and the GEMM `beta` for writing into it: 0 when it is logically zero
    /// (overwrite), 1 otherwise (accumulate). Marks the gradient as no longer zero.
    public func gradientForAccumulation() -> (tensor: Tensor, beta: Float) {
        let beta: Float = gradientIsZero ? 0 : 1
        gradientIsZero = false
        return (storedGradient, beta)
    }
}

/// State a layer keeps that is not trained: BatchNorm's running mean and variance and its batch count.
/// Saved in the `state_dict` beside the parameters (integer buffers as I64, as PyTorch does).
public final class Buffer: @unchecked Sendable {
    /// The `state_dict` name (`1.running_mean`), set by the model.
    public internal(set) var name: String
    public let value: Tensor
    /// True for counters (`num_batches_tracked`), stored as I64.
    public let isInteger: Bool

    public init(name: String, value: Tensor, isInteger: Bool = false) {
        self.name = name
        self.value = value
        self.isInteger = isInteger
    }
}
