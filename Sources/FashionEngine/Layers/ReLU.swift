import CKernels
import FashionCore

/// `max(0, x)`, elementwise, as PyTorch computes it: 0 where x ≤ 0, else x (a NaN passes through); its gradient
/// passes where the output is not ≤ 0 (0 at x = 0).
public final class ReLU: Layer {
    private var output: Tensor?
    private var inputGradient: Tensor?

    /// Below about this many values a loop is not worth handing to another thread.
    private static let chunk = 32_768

    public init() {}

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public var summary: String { "ReLU()" }

    /// Set by `Sequential` when the layer before applies this ReLU (`AppliesFollowingReLU`): the values arrive
    /// rectified and their gradient leaves masked, so both directions pass through.
    var isAppliedByPreviousLayer = false

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        if isAppliedByPreviousLayer { return input }
        let out = Tensor.reuse(output, shape: input.shape)
        output = out
        let (y, x) = (out.data, input.data)
        parallelFor(input.count, minimumChunk: Self.chunk) { range in
            fl_relu_forward(y + range.lowerBound, x + range.lowerBound, range.count)
        }
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        if isAppliedByPreviousLayer { return outputGradient }
        guard let output else { preconditionFailure("ReLU.backward before forward") }
        let dx = Tensor.reuse(inputGradient, shape: outputGradient.shape)
        inputGradient = dx
        let (gradient, dy, y) = (dx.data, outputGradient.data, output.data)
        parallelFor(outputGradient.count, minimumChunk: Self.chunk) { range in
            fl_relu_backward(gradient + range.lowerBound, dy + range.lowerBound, y + range.lowerBound, range.count)
        }
        return dx
    }
}
