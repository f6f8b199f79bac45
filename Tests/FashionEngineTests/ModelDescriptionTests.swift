import Foundation
import Testing
import FashionCore
import FashionEngine

/// Model descriptions: the JSON format, round trips, the built-in models' weights, and every validation error.
struct ModelDescriptionTests {
    // The factories as they were before descriptions, kept to show the new ones draw the same weights.
    static func oldMLP(hidden: [Int], seed: UInt64) -> Sequential {
        var generator = SeededGenerator(seed: seed)
        var layers: [Layer] = []
        var width = 784
        for size in hidden {
            layers.append(Linear(width, size, using: &generator))
            layers.append(ReLU())
            width = size
        }
        layers.append(Linear(width, 10, using: &generator))
        return Sequential(inputShape: [784], layers)
    }

    static func oldCNN(seed: UInt64, dropout: Float = 0.25) -> Sequential {
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

    static func oldLargeCNN(seed: UInt64, dropout: Float = 0.3) -> Sequential {
        var generator = SeededGenerator(seed: seed)
        func block(_ input: Int, _ output: Int) -> [Layer] {
            [Conv2d(input, output, kernel: 3, padding: 1, using: &generator), BatchNorm(output, spatial: true), ReLU()]
        }
        let layers: [Layer] = block(1, 64) + block(64, 64) + [MaxPool2d(2)] + block(64, 128) + block(128, 128) + [MaxPool2d(2)]
            + block(128, 256) + block(256, 256) + [GlobalAveragePool(), Flatten(), Dropout(dropout, seed: seed &+ 1), Linear(256, 10, using: &generator)]
        return Sequential(inputShape: [1, 28, 28], layers)
    }

    /// Bit patterns of every parameter and buffer, the dropout seeds and the summaries: equal means the same network.
    static func fingerprint(_ model: Sequential) -> [String] {
        model.parameters.map { "\($0.name) \($0.value.shape) " + $0.value.toArray().map { String($0.bitPattern, radix: 16) }.joined(separator: ",") }
            + model.buffers.map { "\($0.name) \($0.value.toArray())" }
            + model.layers.compactMap { ($0 as? Dropout).map { "dropout seed \($0.seed) p \($0.probability)" } }
            + [model.summary]
    }

    static func decode(_ json: String) throws -> ModelDescription {
        try ModelDescription.parse(Data(json.utf8), name: "net.json")
    }

    /// The message `json` is refused with.
    static func problem(_ json: String) -> String {
        do {
            _ = try decode(json)
            return "(accepted)"
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [UInt64(0), 7])
    func builtinModelsDrawTheOldFactoriesWeights(seed: UInt64) throws {
        #expect(Self.fingerprint(Sequential.mlp(inputs: 784, hidden: [1000], classes: 10, seed: seed)) == Self.fingerprint(Self.oldMLP(hidden: [1000], seed: seed)))
        #expect(Self.fingerprint(Sequential.mlp(hidden: [64, 32], seed: seed)) == Self.fingerprint(Self.oldMLP(hidden: [64, 32], seed: seed)))
        #expect(Self.fingerprint(Sequential.cnn(seed: seed)) == Self.fingerprint(Self.oldCNN(seed: seed)))
        #expect(Self.fingerprint(Sequential.largeCNN(seed: seed)) == Self.fingerprint(Self.oldLargeCNN(seed: seed)))
        #expect(Self.fingerprint(try Sequential(description: .cnn(), seed: seed)) == Self.fingerprint(Self.oldCNN(seed: seed)))
    }

    @Test(arguments: ["mlp", "cnn", "cnn-large"])
    func builtinDescriptionsRoundTrip(name: String) throws {
        let description: ModelDescription = switch name {
        case "cnn": .cnn()
        case "cnn-large": .largeCNN()
        default: .mlp(hidden: [256, 128])
        }
        let model = try Sequential(description: description, seed: 3)
        #expect(try ModelDescription(model) == description)
        // JSON → description → Sequential → description → JSON, both spellings.
        for json in [description.json(), description.json(pretty: true), String(decoding: try JSONEncoder().encode(description), as: UTF8.self)] {
            let decoded = try Self.decode(json)
            #expect(decoded == description)
            let rebuilt = try ModelDescription(try Sequential(description: decoded, seed: 5))
            #expect(rebuilt == description)
            #expect(rebuilt.json() == description.json())
        }
    }

    @Test func theREADMEExampleDecodesWithDefaults() throws {
        let description = try Self.decode("""
        {"input_shape": [1, 28, 28],
         "layers": [
           {"type": "Conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3, "stride": 1, "padding": 1, "bias": true},
           {"type": "BatchNorm2d", "num_features": 8, "eps": 1e-05, "momentum": 0.1},
           {"type": "ReLU"},
           {"type": "MaxPool2d", "kernel_size": 2},
           {"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 3},
           {"type": "AdaptiveAvgPool2d", "output_size": 1},
           {"type": "Flatten"},
           {"type": "Dropout", "p": 0.25},
           {"type": "Linear", "in_features": 16, "out_features": 32},
           {"type": "BatchNorm1d", "num_features": 32},
           {"type": "Linear", "in_features": 32, "out_features": 10, "bias": false}
         ]}
        """)
        #expect(description.layers[4] == .conv2d(8, 16, kernelSize: 3))
        #expect(description.layers[4].arguments["padding"] == .int(0))
        #expect(description.layers[3].arguments["stride"] == .int(2))
        #expect(description.layers[9] == .batchNorm1d(32))
        let check = try description.validate()
        #expect(check.shapes[4] == [16, 12, 12])
        #expect(check.parameterCount == (8 * 9 + 8) + 16 + (16 * 8 * 9 + 16) + (16 * 32 + 32) + 64 + 32 * 10)
        let model = try Sequential(description: description, seed: 0)
        #expect(model.parameterCount == check.parameterCount)
        #expect(model.parameters.map(\.name).last == "10.weight")
        #expect(try ModelDescription(model) == description)
        let logits = model.forward(Tensor(shape: [2, 1, 28, 28]), training: false)
        #expect(logits.shape == [2, 10])
        // A Dropout left at PyTorch's default.
        #expect(try Self.decode(#"{"input_shape": [784], "layers": [{"type": "Dropout"}, {"type": "Linear", "in_features": 784, "out_features": 10}]}"#).layers[0] == .dropout(0.5))
    }

    /// AvgPool2d in a description: its JSON, its shape check and its round trip.
    @Test func averagePoolingIsDescribed() throws {
        let description = try Self.decode("""
        {"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3, "padding": 1},
         {"type": "ReLU"}, {"type": "AvgPool2d", "kernel_size": 2}, {"type": "Flatten"},
         {"type": "Linear", "in_features": 784, "out_features": 10}]}
        """)
        #expect(description.layers[2] == .avgPool2d(2))
        #expect(try description.validate().shapes[2] == [4, 14, 14])
        let model = try Sequential(description: description, seed: 1)
        #expect(model.layers[2] is AvgPool2d)
        #expect(try ModelDescription(model) == description)
        #expect(throws: (any Error).self) {
            try Self.decode(#"{"input_shape": [1, 28, 28], "layers": [{"type": "AvgPool2d", "kernel_size": 29}, {"type": "Flatten"}, {"type": "Linear", "in_features": 1, "out_features": 10}]}"#).validate()
        }
    }

    @Test func customDropoutLayersAreSeededInOrder() throws {
        let description = ModelDescription(inputShape: [784], layers: [.dropout(0.1), .linear(784, 20), .relu, .dropout(0.2), .linear(20, 10)])
        let model = try Sequential(description: description, seed: 40)
        #expect(model.layers.compactMap { ($0 as? Dropout)?.seed } == [41, 42])
    }

    static let flatCNN = #"{"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 32, "kernel_size": 3, "padding": 1}, {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2}, {"type": "MaxPool2d", "kernel_size": 2}, "#

    /// The layer types a description may name, as the messages list them.
    static let knownTypes = ModelDescription.layerTypes.map(\.name).joined(separator: ", ")

    @Test func validationErrorsNameTheLayerAndTheProblem() {
        let cases: [(String, String)] = [
            (Self.flatCNN + #"{"type": "Flatten"}, {"type": "Linear", "in_features": 700, "out_features": 10}]}"#,
             "net.json: layer 5 (Linear): in_features 700 does not match its input, 1568 values ([1568])"),
            (Self.flatCNN + #"{"type": "Linear", "in_features": 700, "out_features": 10}]}"#,
             "net.json: layer 4 (Linear): in_features 700 does not match its input, 1568 values ([32, 7, 7]); a Linear after [C, H, W] needs a Flatten first"),
            (Self.flatCNN + #"{"type": "Linear", "in_features": 1568, "out_features": 10}]}"#,
             "net.json: layer 4 (Linear): its input [32, 7, 7] is not flat: add a Flatten before it"),
            (#"{"input_shape": [784], "layers": [{"type": "Linear", "in_features": 784, "out_features": 9}]}"#,
             "net.json: the network's output is [9]; it must be [10], one value per class"),
            (#"{"input_shape": [784], "layers": [{"type": "Linear", "in_features": 784, "out_features": 100000}, {"type": "Linear", "in_features": 100000, "out_features": 10000}, {"type": "Linear", "in_features": 10000, "out_features": 10}]}"#,
             "net.json: layer 1 (Linear): the network would hold more than 200000000 parameters"),
            (#"{"input_shape": [784], "layers": [{"type": "Linear", "in_features": 784, "out_features": 4611686018427387904}]}"#,
             "net.json: layer 0 (Linear): its weight [4611686018427387904, 784] is too large"),
            (#"{"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 1000, "kernel_size": 1, "padding": 100}]}"#,
             "net.json: layer 0 (Conv2d): its output [1000, 228, 228] has 51984000 values per image; at most 16777216 are allowed"),
            (#"{"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 1, "padding": 4611686018427387904}]}"#,
             "net.json: layer 0 (Conv2d): padding is too large"),
            (#"{"input_shape": [784], "layers": [{"type": "Dense", "units": 10}]}"#,
             "net.json: layer 0 (Dense): unknown type 'Dense' (known: \(Self.knownTypes); a layer type of one's own is known to a program that registers it with ModelDescription.register(_:))"),
            (#"{"input_shape": [784], "layers": [{"type": "Linear", "in_feature": 784, "out_features": 10}]}"#,
             "net.json: layer 0 (Linear): unknown key 'in_feature' (known: in_features, out_features, bias)"),
            (#"{"input_shape": [784], "layers": [{"type": "Linear", "in_features": -784, "out_features": 10}]}"#,
             "net.json: layer 0 (Linear): in_features must be positive, got -784"),
            (#"{"input_shape": [784], "layers": [{"type": "Linear", "out_features": 10}]}"#,
             "net.json: layer 0 (Linear): missing in_features"),
            (#"{"input_shape": [784], "layers": [{"type": "Linear", "in_features": 784, "out_features": 10, "bias": 1}]}"#,
             "net.json: layer 0 (Linear): bias must be true or false, got 1"),
            (#"{"input_shape": [784], "layers": [{"type": "Linear", "in_features": 78.4, "out_features": 10}]}"#,
             "net.json: layer 0 (Linear): in_features must be a whole number, got 78.4"),
            (#"{"input_shape": [784], "layers": [{"type": "ReLU", "inplace": true}, {"type": "Linear", "in_features": 784, "out_features": 10}]}"#,
             "net.json: layer 0 (ReLU): unknown key 'inplace' (it takes no settings)"),
            (#"{"input_shape": [784], "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3}]}"#,
             "net.json: layer 0 (Conv2d): needs a [C, H, W] input, got [784] (set input_shape to [1, 28, 28] for images)"),
            (#"{"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3}]}"#,
             "net.json: layer 0 (Conv2d): in_channels 3 does not match its input's 1 channels ([1, 28, 28])"),
            (#"{"input_shape": [1, 28, 28], "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 29}]}"#,
             "net.json: layer 0 (Conv2d): kernel_size 29 is larger than its padded input (28×28)"),
            (#"{"input_shape": [1, 28, 28], "layers": [{"type": "BatchNorm2d", "num_features": 8}]}"#,
             "net.json: layer 0 (BatchNorm2d): num_features 8 does not match its input's 1 channels ([1, 28, 28])"),
            (#"{"input_shape": [1, 28, 28], "layers": [{"type": "MaxPool2d", "kernel_size": 2, "stride": 1}]}"#,
             "net.json: layer 0 (MaxPool2d): stride 1 must equal kernel_size 2 (the only pooling FashionLab has)"),
            (#"{"input_shape": [1, 28, 28], "layers": [{"type": "AdaptiveAvgPool2d", "output_size": 2}]}"#,
             "net.json: layer 0 (AdaptiveAvgPool2d): output_size must be 1 (global average pooling), got 2"),
            (#"{"input_shape": [784], "layers": [{"type": "Dropout", "p": 1}]}"#,
             "net.json: layer 0 (Dropout): p must be in [0, 1), got 1.0"),
            (#"{"input_shape": [1, 28, 28], "layers": [{"type": "AdaptiveAvgPool2d", "output_size": 1}]}"#,
             "net.json: the network's output is [1, 1, 1]; it must be [10], one value per class"),
            (#"{"input_shape": [28, 28], "layers": [{"type": "Flatten"}]}"#,
             "net.json: input_shape [28, 28] must be [N] (flat vectors) or [C, H, W] (images), with positive sizes"),
            (#"{"input_shape": [3, 28, 28], "layers": [{"type": "Flatten"}]}"#,
             "net.json: input_shape [3, 28, 28] has 2352 values; the images have 784 (use [784] or [1, 28, 28])"),
            (#"{"input_shape": [784], "layers": []}"#, "net.json: layers is empty"),
            (#"{"input_shape": [784], "layer": []}"#, "net.json: unknown key 'layer' (known: input_shape, layers)"),
            (#"{"input_shape": [784]}"#, "net.json: missing key 'layers'"),
            (#"{"input_shape": [784], "layers": [{"in_features": 784}]}"#,
             "net.json: layer 0: needs a \"type\" naming the layer class (known: \(Self.knownTypes))"),
            (#"{"input_shape": "784", "layers": []}"#, "net.json: input_shape: expected a list of whole numbers"),
        ]
        for (json, message) in cases {
            #expect(Self.problem(json) == message, "\(json)")
        }
        #expect(Self.problem("{\"input_shape\": [784], ") .hasPrefix("net.json: not valid JSON"))
        let many = #"{"input_shape": [784], "layers": ["# + String(repeating: #"{"type": "ReLU"}, "#, count: 1000) + #"{"type": "Linear", "in_features": 784, "out_features": 10}]}"#
        #expect(Self.problem(many) == "net.json: 1001 layers; at most 1000 are allowed")
    }

    @Test func descriptionsMadeInCodeAreValidatedToo() {
        #expect(throws: ModelDescriptionError.self) {
            _ = try Sequential(description: ModelDescription(inputShape: [784], layers: [.linear(700, 10)]), seed: 0)
        }
        #expect(throws: ModelDescriptionError.self) {
            _ = try Sequential(description: ModelDescription(inputShape: [784], layers: [LayerDescription(type: "Linear", arguments: ["in_features": .int(784)])]), seed: 0)
        }
        // Any input size and class count when the checks are turned off (the engine's own tests use small MLPs).
        #expect((try? Sequential(description: .mlp(inputs: 6, hidden: [3], classes: 2), seed: 0, inputValues: nil, classes: nil)) != nil)
    }

    @Test func aLayerWithoutADescriptionIsNamed() {
        final class Custom: Layer {
            func forward(_ input: Tensor, training: Bool) -> Tensor { input }
            func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? { outputGradient }
            func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
            var summary: String { "Custom()" }
        }
        #expect(throws: ModelDescriptionError.self) { _ = try ModelDescription(Sequential(inputShape: [784], [Custom()])) }
    }

    @Test func weightsThatDoNotFitTheDescriptionAreRefusedByName() throws {
        let saved = try Sequential(description: ModelDescription(inputShape: [784], layers: [.linear(784, 16), .relu, .linear(16, 10)]), seed: 0)
        let other = try Sequential(description: ModelDescription(inputShape: [784], layers: [.linear(784, 32), .relu, .linear(32, 10)]), seed: 0)
        #expect(throws: SafetensorsError.self) { try other.load(saved.stateDict(), name: "model.safetensors") }
        do {
            try other.load(saved.stateDict(), name: "model.safetensors")
        } catch {
            #expect("\(error)".contains("'0.weight'"))
        }
    }
}
