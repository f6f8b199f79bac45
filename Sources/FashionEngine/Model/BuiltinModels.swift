/// The built-in networks as descriptions; `Sequential.mlp`, `.cnn` and `.largeCNN` build them.
extension ModelDescription {
    /// The notebook's network: `Linear(inputs, hidden[0]) → ReLU → … → Linear(hidden.last, classes)`.
    public static func mlp(inputs: Int = 784, hidden: [Int] = [1000], classes: Int = 10) -> ModelDescription {
        var layers: [LayerDescription] = []
        var width = inputs
        for size in hidden {
            layers += [.linear(width, size), .relu]
            width = size
        }
        layers.append(.linear(width, classes))
        return ModelDescription(inputShape: [inputs], layers: layers)
    }

    /// `Sequential.cnn`: two blocks of two 3×3 convolutions (32 then 64 channels) with batch normalisation and
    /// ReLU, each ending in 2×2 max pooling, then dropout, a 256-unit layer and the classifier.
    public static func cnn(dropout: Float = 0.25) -> ModelDescription {
        func conv(_ input: Int, _ output: Int) -> [LayerDescription] {
            [.conv2d(input, output, kernelSize: 3, padding: 1), .batchNorm2d(output), .relu]
        }
        let layers = conv(1, 32) + conv(32, 32) + [.maxPool2d(2)] + conv(32, 64) + conv(64, 64) + [.maxPool2d(2)]
            + [.flatten, .dropout(dropout), .linear(3136, 256), .relu, .dropout(dropout), .linear(256, 10)]
        return ModelDescription(inputShape: [1, 28, 28], layers: layers)
    }

    /// `Sequential.largeCNN`: three blocks (64, 128 and 256 channels) of two 3×3 convolutions with batch
    /// normalisation and ReLU, max pooling after the first two blocks, global average pooling, dropout and the
    /// classifier.
    public static func largeCNN(dropout: Float = 0.3) -> ModelDescription {
        func block(_ input: Int, _ output: Int) -> [LayerDescription] {
            [.conv2d(input, output, kernelSize: 3, padding: 1), .batchNorm2d(output), .relu]
        }
        let layers = block(1, 64) + block(64, 64) + [.maxPool2d(2)] + block(64, 128) + block(128, 128) + [.maxPool2d(2)]
            + block(128, 256) + block(256, 256) + [.adaptiveAvgPool2d, .flatten, .dropout(dropout), .linear(256, 10)]
        return ModelDescription(inputShape: [1, 28, 28], layers: layers)
    }
}
