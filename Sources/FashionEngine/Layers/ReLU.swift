import CKernels

/// `max(0, x)`, elementwise. Its gradient passes where the output is positive (0 at x = 0, as in PyTorch).
public final class ReLU: Layer {
    private var output: Tensor?
    private var inputGradient: Tensor?

    public init() {}

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public var summary: String { "ReLU()" }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let out = Tensor.reuse(output, shape: input.shape)
        output = out
        fl_relu_forward(out.data, input.data, input.count)
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let output else { preconditionFailure("ReLU.backward before forward") }
        let dx = Tensor.reuse(inputGradient, shape: outputGradient.shape)
        inputGradient = dx
        fl_relu_backward(dx.data, outputGradient.data, output.data, outputGradient.count)
        return dx
    }
}
