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
        let n = input.count
        let x = input.data, y = out.data
        for i in 0..<n { y[i] = max(x[i], 0) }
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let output else { preconditionFailure("ReLU.backward before forward") }
        let dx = Tensor.reuse(inputGradient, shape: outputGradient.shape)
        inputGradient = dx
        let n = outputGradient.count
        let y = output.data, dy = outputGradient.data, d = dx.data
        for i in 0..<n { d[i] = y[i] > 0 ? dy[i] : 0 }
        return dx
    }
}
