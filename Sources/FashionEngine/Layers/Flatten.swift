/// Reshapes `[B, d1, d2, …]` to `[B, d1·d2·…]`; the data is shared, not copied.
public final class Flatten: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape.reduce(1, *)] }
    public var summary: String { "Flatten(start_dim=1, end_dim=-1)" }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        inputShape = input.shape
        input.reshape([input.shape[0], input.count / max(1, input.shape[0])])
        return input
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        outputGradient.reshape(inputShape)
        return outputGradient
    }
}

// MARK: Model description (`{"type": "Flatten"}`)

extension Flatten: DescribedLayer {
    public static let layerType = LayerType(
        name: "Flatten", settings: [],
        check: { _, input in LayerShape(output: [try ShapeCheck.product(input, "its input")]) },
        make: { _, _, _ in Flatten() })
    public var layerDescription: LayerDescription { .flatten }
}

extension LayerDescription {
    public static var flatten: LayerDescription { LayerDescription(type: "Flatten") }
}
