/// A layer with an explicit forward and backward pass (llm.c style, no autograd).
///
/// `forward` keeps what `backward` needs; `backward` accumulates the parameters' gradients and
/// returns the gradient with respect to the input (nil when `needsInputGradient` is false, which
/// spares the first layer a GEMM). Output buffers belong to the layer and are reused across steps.
public protocol Layer: AnyObject {
    /// Computes the output for a batch and remembers what the backward pass needs.
    func forward(_ input: Tensor, training: Bool) -> Tensor
    /// Back-propagates `outputGradient` (same shape as the last output).
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor?
    /// Trainable parameters with their local names ("weight", "bias").
    var parameters: [Parameter] { get }
    /// Non-trained state with local names ("running_mean", …).
    var buffers: [Buffer] { get }
    /// Shape of one output sample for one input sample of `inputShape` (batch dimension excluded).
    func outputShape(for inputShape: [Int]) -> [Int]
    /// A short description, like PyTorch's module repr: `Linear(in_features=784, out_features=1000)`.
    var summary: String { get }
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }
}
