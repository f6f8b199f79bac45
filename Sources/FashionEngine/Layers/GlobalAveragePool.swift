/// Averages each channel of `[B, C, H, W]` over its H·W positions, giving `[B, C, 1, 1]`
/// (`nn.AdaptiveAvgPool2d(1)`; follow it with `Flatten` for `[B, C]`).
public final class GlobalAveragePool: Layer {
    private var output: Tensor?
    private var inputGradient: Tensor?
    private var inputShape: [Int] = []

    public init() {}

    public var summary: String { "AdaptiveAvgPool2d(output_size=1)" }
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], 1, 1] }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        inputShape = input.shape
        let planes = input.shape[0] * input.shape[1]
        let positions = input.count / max(1, planes)
        let out = Tensor.reuse(output, shape: [input.shape[0], input.shape[1], 1, 1])
        output = out
        for plane in 0..<planes {
            let values = input.data + plane * positions
            var sum: Float = 0
            for i in 0..<positions { sum += values[i] }
            out.data[plane] = sum / Float(positions)
        }
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        let gradient = Tensor.reuse(inputGradient, shape: inputShape)
        inputGradient = gradient
        let planes = inputShape[0] * inputShape[1]
        let positions = gradient.count / max(1, planes)
        for plane in 0..<planes {
            // Every position contributed 1/(H·W) of the mean.
            (gradient.data + plane * positions).update(repeating: outputGradient.data[plane] / Float(positions), count: positions)
        }
        return gradient
    }
}

// MARK: Model description (`{"type": "AdaptiveAvgPool2d", "output_size": 1}`; output size 1 only)

extension GlobalAveragePool: DescribedLayer {
    public static let layerType = LayerType(
        name: "AdaptiveAvgPool2d",
        settings: [LayerSetting("output_size", .int)],
        check: { description, input in
            let channels = try ShapeCheck.image(input).channels
            guard description.int("output_size") == 1 else {
                throw LayerProblem("output_size must be 1 (global average pooling), got \(description.int("output_size"))")
            }
            return LayerShape(output: [channels, 1, 1])
        },
        make: { _, _, _ in GlobalAveragePool() })
    public var layerDescription: LayerDescription { .adaptiveAvgPool2d }
}

extension LayerDescription {
    public static var adaptiveAvgPool2d: LayerDescription { LayerDescription(type: "AdaptiveAvgPool2d", arguments: ["output_size": .int(1)]) }
}
