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
    /// 1 where the last training pass kept the value.
    private var keep: [UInt8] = []

    public init(_ probability: Float, seed: UInt64) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        self.seed = seed
    }

    public var summary: String { "Dropout(p=\(probability), inplace=False)" }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }

    /// Draws the next training pass's keep mask (1 kept, 0 dropped) into `mask`, from this layer's stream;
    /// the GPU backend draws its masks here too, so both drop the same values.
    public func drawKeepMask(into mask: UnsafeMutableBufferPointer<UInt8>) {
        var generator = SeededGenerator(seed: seed &+ calls &* 0x9E37_79B9_7F4A_7C15)
        calls &+= 1  // a stream position: it wraps rather than traps
        for i in mask.indices { mask[i] = generator.nextUnitFloat() < probability ? 0 : 1 }
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        guard training, probability > 0 else { return input }
        let out = Tensor.reuse(output, shape: input.shape)
        output = out
        if keep.count < input.count { keep = [UInt8](repeating: 0, count: input.capacity) }
        keep.withUnsafeMutableBufferPointer { drawKeepMask(into: UnsafeMutableBufferPointer(rebasing: $0[..<input.count])) }
        let scale = 1 / (1 - probability)
        for i in 0..<input.count { out.data[i] = input.data[i] * (keep[i] != 0 ? scale : 0) }
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard output != nil, probability > 0 else { return outputGradient }
        let dx = Tensor.reuse(inputGradient, shape: outputGradient.shape)
        inputGradient = dx
        let scale = 1 / (1 - probability)
        for i in 0..<outputGradient.count { dx.data[i] = outputGradient.data[i] * (keep[i] != 0 ? scale : 0) }
        return dx
    }
}

// MARK: Model description (`{"type": "Dropout", "p": 0.25}`; the seed comes from the model's, by order of appearance)

extension Dropout: DescribedLayer {
    public static let layerType = LayerType(
        name: "Dropout",
        settings: [LayerSetting("p", .number, default: .value(.number(0.5)))],
        check: { description, input in
            let p = description.number("p")
            guard p >= 0, p < 1 else { throw LayerProblem("p must be in [0, 1), got \(p)") }
            return LayerShape(output: input)
        },
        make: { description, _, builder in Dropout(Float(description.number("p")), seed: builder.nextDropoutSeed()) })
    public var layerDescription: LayerDescription { .dropout(probability) }
}

extension LayerDescription {
    public static func dropout(_ p: Float) -> LayerDescription { LayerDescription(type: "Dropout", arguments: ["p": .decimal(p)]) }
}
