import FashionCore

/// Layers applied in order, named like PyTorch's `nn.Sequential` (`0.weight`, `0.bias`, `2.weight`, …).
public final class Sequential: Layer {
    public let layers: [Layer]
    /// Shape of one input sample, e.g. `[784]` for the MLP or `[1, 28, 28]` for a CNN.
    public let inputShape: [Int]

    /// `layers` applied in order to samples of `inputShape` (`[784]`, `[1, 28, 28]`).
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

    /// The notebook's network: `Linear(inputs, hidden[0]) → ReLU → … → Linear(hidden.last, classes)`
    /// (`ModelDescription.mlp`).
    public static func mlp(inputs: Int = 784, hidden: [Int] = [1000], classes: Int = 10, seed: UInt64 = 0) -> Sequential {
        built(.mlp(inputs: inputs, hidden: hidden, classes: classes), seed: seed)
    }

    /// A small CNN for Fashion-MNIST (`ModelDescription.cnn`): two blocks of two 3×3 convolutions (32 then 64
    /// channels) with batch normalisation and ReLU, each ending in 2×2 max pooling, then dropout, a 256-unit layer
    /// and the classifier. PyTorch equivalent (same `state_dict` names):
    /// `nn.Sequential(Conv2d(1,32,3,padding=1), BatchNorm2d(32), ReLU(), Conv2d(32,32,3,padding=1), BatchNorm2d(32),
    /// ReLU(), MaxPool2d(2), Conv2d(32,64,3,padding=1), BatchNorm2d(64), ReLU(), Conv2d(64,64,3,padding=1),
    /// BatchNorm2d(64), ReLU(), MaxPool2d(2), Flatten(), Dropout(0.25), Linear(3136,256), ReLU(), Dropout(0.25),
    /// Linear(256,10))`.
    public static func cnn(seed: UInt64 = 0, dropout: Float = 0.25) -> Sequential {
        built(.cnn(dropout: dropout), seed: seed)
    }

    /// A wider, deeper CNN for users with more time or a GPU (`ModelDescription.largeCNN`): three blocks (64, 128
    /// and 256 channels) of two 3×3 convolutions with batch normalisation and ReLU, max pooling after the first two
    /// blocks, global average pooling, dropout and the classifier. PyTorch equivalent (same `state_dict` names):
    /// `nn.Sequential(Conv2d(1,64,3,padding=1), BatchNorm2d(64), ReLU(), Conv2d(64,64,3,padding=1), BatchNorm2d(64),
    /// ReLU(), MaxPool2d(2), Conv2d(64,128,3,padding=1), BatchNorm2d(128), ReLU(), Conv2d(128,128,3,padding=1),
    /// BatchNorm2d(128), ReLU(), MaxPool2d(2), Conv2d(128,256,3,padding=1), BatchNorm2d(256), ReLU(),
    /// Conv2d(256,256,3,padding=1), BatchNorm2d(256), ReLU(), AdaptiveAvgPool2d(1), Flatten(), Dropout(0.3),
    /// Linear(256,10))`.
    public static func largeCNN(seed: UInt64 = 0, dropout: Float = 0.3) -> Sequential {
        built(.largeCNN(dropout: dropout), seed: seed)
    }

    /// A built-in description, which is valid by construction (any input size and class count).
    private static func built(_ description: ModelDescription, seed: UInt64) -> Sequential {
        do {
            return try Sequential(description: description, seed: seed, inputValues: nil, classes: nil)
        } catch {
            preconditionFailure("\(error)")
        }
    }
}

extension Sequential {
    /// Floating-point operations of the model's GEMM-shaped layers (Linear, and Conv2d counted as the direct
    /// convolution it computes) for one image: the forward pass, and a training step's forward and backward
    /// passes (weight gradients everywhere, input gradients after the first such layer). The figure a GEMM
    /// throughput is computed from; elementwise layers are left out.
    public var gemmFlopsPerImage: (forward: Double, training: Double) {
        var shape = inputShape
        var forward = 0.0
        var training = 0.0
        for layer in layers {
            let output = layer.outputShape(for: shape)
            var multiplyAdds = 0.0
            if let linear = layer as? Linear {
                multiplyAdds = Double(linear.inFeatures * linear.outFeatures)
            } else if let conv = layer as? Conv2d {
                multiplyAdds = Double(conv.outChannels * conv.inChannels * conv.kernel * conv.kernel * output.dropFirst().reduce(1, *))
            }
            if multiplyAdds > 0 {
                // forward and weight gradient; the input gradient only where a layer before needs it
                training += 2 * multiplyAdds * (forward == 0 ? 2 : 3)
                forward += 2 * multiplyAdds
            }
            shape = output
        }
        return (forward, training)
    }
}
