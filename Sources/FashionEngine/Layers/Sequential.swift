import FashionCore

/// Layers applied in order, named like PyTorch's `nn.Sequential` (`0.weight`, `0.bias`, `2.weight`, …).
public final class Sequential: Layer {
    public let layers: [Layer]
    /// Shape of one input sample, e.g. `[784]` for the MLP or `[1, 28, 28]` for a CNN.
    public let inputShape: [Int]

    public init(inputShape: [Int], _ layers: [Layer]) {
        self.inputShape = inputShape
        self.layers = layers
        for (index, layer) in layers.enumerated() {
            for parameter in layer.parameters where !parameter.name.contains(".") {
                parameter.name = "\(index).\(parameter.name)"
            }
            for buffer in layer.buffers where !buffer.name.contains(".") {
                buffer.name = "\(index).\(buffer.name)"
            }
        }
        // The fusion rule of both engines (`Fusion.swift`): a ReLU is applied by the layer before it when that can.
        for (layer, next) in zip(layers, layers.dropFirst()) {
            if let layer = layer as? AppliesFollowingReLU, let relu = next as? ReLU {
                layer.appliesReLU = true
                relu.isAppliedByPreviousLayer = true
            }
        }
    }

    /// The parameters an optimiser updates after a backward pass with `sgdRate`: all of them without it, and
    /// with it those of the layers that do not `UpdateInBackward` (which applied the update themselves).
    public func parametersLeftToOptimizer(sgdRate: Float?) -> [Parameter] {
        guard sgdRate != nil else { return parameters }
        return layers.filter { !($0 is UpdatesInBackward) }.flatMap(\.parameters)
    }

    /// Every parameter, in `state_dict` order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// Every buffer, in `state_dict` order.
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }

    /// Total number of trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        layers.reduce(inputShape) { $1.outputShape(for: $0) }
    }

    public var summary: String {
        "Sequential(\n" + layers.enumerated().map { "  (\($0)): \($1.summary)" }.joined(separator: "\n") + "\n)"
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        layers.reduce(input) { $1.forward($0, training: training) }
    }

    /// Back-propagates through every layer, last first. With `sgdRate`, the layers that can apply plain SGD
    /// to their parameters themselves do (`UpdatesInBackward`); the others store their gradients.
    @discardableResult
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool = false, sgdRate: Float? = nil) -> Tensor? {
        var gradient: Tensor? = outputGradient
        for (index, layer) in layers.enumerated().reversed() {
            let needed = index > 0 || needsInputGradient
            if let sgdRate, let layer = layer as? UpdatesInBackward {
                gradient = layer.backward(gradient!, needsInputGradient: needed, sgdRate: sgdRate)
            } else {
                gradient = layer.backward(gradient!, needsInputGradient: needed)
            }
            if gradient == nil { break }
        }
        return gradient
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        backward(outputGradient, needsInputGradient: needsInputGradient, sgdRate: nil)
    }

    /// Marks every gradient as zero.
    public func zeroGradients() { parameters.forEach { $0.zeroGradient() } }

    /// The notebook's network: `Linear(inputs, hidden[0]) → ReLU → … → Linear(hidden.last, classes)`.
    public static func mlp(inputs: Int = 784, hidden: [Int] = [1000], classes: Int = 10, seed: UInt64 = 0) -> Sequential {
        var generator = SeededGenerator(seed: seed)
        var layers: [Layer] = []
        var width = inputs
        for size in hidden {
            layers.append(Linear(width, size, using: &generator))
            layers.append(ReLU())
            width = size
        }
        layers.append(Linear(width, classes, using: &generator))
        return Sequential(inputShape: [inputs], layers)
    }

    /// A small CNN for Fashion-MNIST: two blocks of two 3×3 convolutions (32 then 64 channels) with batch
    /// normalisation and ReLU, each ending in 2×2 max pooling, then dropout, a 256-unit layer and the classifier.
    /// PyTorch equivalent (same `state_dict` names):
    /// `nn.Sequential(Conv2d(1,32,3,padding=1), BatchNorm2d(32), ReLU(), Conv2d(32,32,3,padding=1), BatchNorm2d(32),
    /// ReLU(), MaxPool2d(2), Conv2d(32,64,3,padding=1), BatchNorm2d(64), ReLU(), Conv2d(64,64,3,padding=1),
    /// BatchNorm2d(64), ReLU(), MaxPool2d(2), Flatten(), Dropout(0.25), Linear(3136,256), ReLU(), Dropout(0.25),
    /// Linear(256,10))`.
    public static func cnn(seed: UInt64 = 0, dropout: Float = 0.25) -> Sequential {
        var generator = SeededGenerator(seed: seed)
        func conv(_ input: Int, _ output: Int) -> Conv2d { Conv2d(input, output, kernel: 3, padding: 1, using: &generator) }
        let layers: [Layer] = [
            conv(1, 32), BatchNorm(32, spatial: true), ReLU(), conv(32, 32), BatchNorm(32, spatial: true), ReLU(), MaxPool2d(2),
            conv(32, 64), BatchNorm(64, spatial: true), ReLU(), conv(64, 64), BatchNorm(64, spatial: true), ReLU(), MaxPool2d(2),
            Flatten(), Dropout(dropout, seed: seed &+ 1), Linear(3136, 256, using: &generator), ReLU(),
            Dropout(dropout, seed: seed &+ 2), Linear(256, 10, using: &generator),
        ]
        return Sequential(inputShape: [1, 28, 28], layers)
    }

    /// A wider, deeper CNN for users with more time or a GPU: three blocks (64, 128 and 256 channels) of two
    /// 3×3 convolutions with batch normalisation and ReLU, max pooling after the first two blocks, global average
    /// pooling, dropout and the classifier. PyTorch equivalent (same `state_dict` names):
    /// `nn.Sequential(Conv2d(1,64,3,padding=1), BatchNorm2d(64), ReLU(), Conv2d(64,64,3,padding=1), BatchNorm2d(64),
    /// ReLU(), MaxPool2d(2), Conv2d(64,128,3,padding=1), BatchNorm2d(128), ReLU(), Conv2d(128,128,3,padding=1),
    /// BatchNorm2d(128), ReLU(), MaxPool2d(2), Conv2d(128,256,3,padding=1), BatchNorm2d(256), ReLU(),
    /// Conv2d(256,256,3,padding=1), BatchNorm2d(256), ReLU(), AdaptiveAvgPool2d(1), Flatten(), Dropout(0.3),
    /// Linear(256,10))`.
    public static func largeCNN(seed: UInt64 = 0, dropout: Float = 0.3) -> Sequential {
        var generator = SeededGenerator(seed: seed)
        func block(_ input: Int, _ output: Int) -> [Layer] {
            [Conv2d(input, output, kernel: 3, padding: 1, using: &generator), BatchNorm(output, spatial: true), ReLU()]
        }
        let layers: [Layer] = block(1, 64) + block(64, 64) + [MaxPool2d(2)] + block(64, 128) + block(128, 128) + [MaxPool2d(2)]
            + block(128, 256) + block(256, 256) + [GlobalAveragePool(), Flatten(), Dropout(dropout, seed: seed &+ 1), Linear(256, 10, using: &generator)]
        return Sequential(inputShape: [1, 28, 28], layers)
    }
}
