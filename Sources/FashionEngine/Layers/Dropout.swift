import FashionCore

/// Zeroes each value with probability `p` in training and scales the rest by 1/(1−p) (`nn.Dropout`);
/// the identity in evaluation. The mask of each training step comes from the layer's seed and its count
/// of training passes (`calls`), which a checkpoint saves, so resumed runs repeat the same masks.
public final class Dropout: Layer {
    public let probability: Float
    public let seed: UInt64
    /// Training passes so far.
    public var calls: UInt64 = 0
    private var output: Tensor?
    private var inputGradient: Tensor?
    private var mask: [Float] = []

    public init(_ probability: Float, seed: UInt64) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        self.seed = seed
    }

    public var summary: String { "Dropout(p=\(probability), inplace=False)" }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        guard training, probability > 0 else { return input }
        var generator = SeededGenerator(seed: seed &+ calls &* 0x9E37_79B9_7F4A_7C15)
        calls += 1
        let out = Tensor.reuse(output, shape: input.shape)
        output = out
        if mask.count < input.count { mask = [Float](repeating: 0, count: input.capacity) }
        let keep = 1 / (1 - probability)
        for i in 0..<input.count {
            mask[i] = generator.nextUnitFloat() < probability ? 0 : keep
            out.data[i] = input.data[i] * mask[i]
        }
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard output != nil, probability > 0 else { return outputGradient }
        let dx = Tensor.reuse(inputGradient, shape: outputGradient.shape)
        inputGradient = dx
        for i in 0..<outputGradient.count { dx.data[i] = outputGradient.data[i] * mask[i] }
        return dx
    }
}
