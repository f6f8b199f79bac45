import FashionCore
import Foundation

/// A network as data: the shape of one input sample and the layers in order, each named by its PyTorch class
/// with PyTorch's constructor arguments, so that Python rebuilds it with `getattr(nn, d.pop("type"))(**d)`:
///
/// ```json
/// {"input_shape": [1, 28, 28],
///  "layers": [
///    {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3, "padding": 1},
///    {"type": "ReLU"},
///    {"type": "MaxPool2d", "kernel_size": 2},
///    {"type": "Flatten"},
///    {"type": "Linear", "in_features": 784, "out_features": 10}
///  ]}
/// ```
/// Settings left out take PyTorch's defaults (a decoded description holds them all, so two descriptions of the
/// same network compare equal). Decoding validates: unknown types and keys, sizes, the shapes through the chain,
/// 10 classes out, and bounds on the layers, parameters and activations a file may ask for
/// (`ModelDescriptionError` names the layer). Every checkpoint stores its model's description
/// (`model.safetensors`' metadata key `fashionlab_model`).
public struct ModelDescription: Codable, Sendable, Equatable {
    public var inputShape: [Int]
    public var layers: [LayerDescription]

    public init(inputShape: [Int], layers: [LayerDescription]) {
        self.inputShape = inputShape
        self.layers = layers
    }

    /// The layer types FashionLab has; adding one to FashionLab adds its line here (a program adds its own with
    /// ``register(_:)``).
    public static let builtinLayerTypes: [LayerType] = [
        Linear.layerType,
        Conv2d.layerType,
        BatchNorm.layerType1d,
        BatchNorm.layerType2d,
        ReLU.layerType,
        MaxPool2d.layerType,
        AvgPool2d.layerType,
        GlobalAveragePool.layerType,
        Flatten.layerType,
        Dropout.layerType,
    ]

    /// The layer types a description can name: FashionLab's, then those this program registered.
    public static var layerTypes: [LayerType] { builtinLayerTypes + registeredLayerTypes.types }

    /// Makes a layer type of one's own known to descriptions, so that a network with it is saved with its
    /// description and rebuilt from it (reloading a model, resuming a checkpoint). The layer itself conforms to
    /// ``DescribedLayer``, its description naming this type. Register before building, loading or resuming;
    /// a program that loads such a model (not the `fashionlab` command, which knows FashionLab's types only)
    /// registers the same type. Throws when a type of that name is already known.
    public static func register(_ type: LayerType) throws {
        try registeredLayerTypes.add(type)
    }

    private static let registeredLayerTypes = RegisteredLayerTypes()

    /// The safetensors metadata key under which every FashionLab checkpoint stores its model's description.
    public static let metadataKey = "fashionlab_model"

    public static func layerType(named name: String) -> LayerType? { layerTypes.first { $0.name == name } }

    /// Bounds on what a description may ask for, so that a hostile file cannot make FashionLab allocate
    /// terabytes: the number of layers, the parameters and buffers of all layers together, the values one
    /// image takes after any layer (and in a convolution's unrolled columns), and the values a batch keeps
    /// alive through a step in all layers together (``Check/workingValues(batchSize:)``).
    public static let maximumLayers = 1_000
    public static let maximumParameters = 200_000_000
    public static let maximumActivation = 16_777_216
    /// At most 2³⁰ floats (4 GiB) of working memory for one batch.
    public static let maximumWorkingValues = 1 << 30

    // MARK: Describing and building

    /// The description of `model`; throws, saying how to make it describable, when one of its layers is a type
    /// of one's own that does not conform to ``DescribedLayer`` or whose type was not registered (``register(_:)``).
    public init(_ model: Sequential) throws {
        inputShape = model.inputShape
        layers = try model.layers.enumerated().map { index, layer in
            let howTo = "make it conform to DescribedLayer and register its LayerType with ModelDescription.register(_:) (docs/library.md, \"A layer of one's own\"), so that its runs can be saved and rebuilt"
            guard let described = layer as? DescribedLayer else {
                throw ModelDescriptionError(layer: index, type: "\(type(of: layer))", "cannot be described: " + howTo)
            }
            let description = described.layerDescription
            guard Self.layerType(named: description.type) != nil else {
                throw ModelDescriptionError(layer: index, type: description.type, "is not a registered layer type: " + howTo)
            }
            return description
        }
    }

    /// What a valid description makes: each layer's output shape, the parameter count and the working memory.
    public struct Check: Sendable {
        /// The shape after each layer.
        public let shapes: [[Int]]
        /// Trainable values of all layers together.
        public let parameterCount: Int
        /// The values one image keeps alive through a training step: its input, every layer's output (kept for
        /// the backward pass) and every layer's scratch, added up.
        public let workingValuesPerImage: Int
        public var outputShape: [Int] { shapes.last ?? [] }

        /// The values a batch of `batchSize` images keeps alive, or nil when that is more than
        /// ``ModelDescription/maximumWorkingValues`` (or overflows).
        public func workingValues(batchSize: Int) -> Int? {
            let (values, overflow) = workingValuesPerImage.multipliedReportingOverflow(by: batchSize)
            return overflow || values > ModelDescription.maximumWorkingValues ? nil : values
        }

        /// Why a batch of `batchSize` images is too much for this network: the figure it asks for and the bound.
        public func workingMemoryProblem(batchSize: Int) -> String? {
            guard workingValues(batchSize: batchSize) == nil else { return nil }
            let (values, overflow) = workingValuesPerImage.multipliedReportingOverflow(by: batchSize)
            let asked = overflow ? "more than \(Int.max) values" : "\(values) values (\(Self.gibibytes(values)))"
            return "a batch of \(batchSize) image(s) of this network keeps \(asked) alive in its layers' outputs; at most \(ModelDescription.maximumWorkingValues) (\(Self.gibibytes(ModelDescription.maximumWorkingValues))) are allowed"
        }

        static func gibibytes(_ values: Int) -> String {
            String(format: "%.1f GiB", Double(values) * Double(MemoryLayout<Float>.size) / Double(1 << 30))
        }
    }

    /// Checks everything but the weights: known layer types and settings, positive sizes, shapes that fit from
    /// one layer to the next, the bounds, and — when given — the number of input values (784 for Fashion-MNIST)
    /// and of classes out (10).
    @discardableResult
    public func validate(inputValues: Int? = 784, classes: Int? = 10) throws -> Check {
        guard !inputShape.isEmpty, inputShape.count != 2, inputShape.count <= 3, inputShape.allSatisfy({ $0 >= 1 }) else {
            throw ModelDescriptionError("input_shape \(inputShape) must be [N] (flat vectors) or [C, H, W] (images), with positive sizes")
        }
        let values = try Self.checked { () throws in try ShapeCheck.product(inputShape, "input_shape") }
        if let inputValues, values != inputValues {
            throw ModelDescriptionError("input_shape \(inputShape) has \(values) values; the images have \(inputValues) (use [\(inputValues)] or [1, 28, 28])")
        }
        guard !layers.isEmpty else { throw ModelDescriptionError("layers is empty") }
        guard layers.count <= Self.maximumLayers else {
            throw ModelDescriptionError("\(layers.count) layers; at most \(Self.maximumLayers) are allowed")
        }
        var shape = inputShape, shapes: [[Int]] = [], stored = 0, parameters = 0, working = values
        for (index, layer) in layers.enumerated() {
            func fail(_ message: String) -> ModelDescriptionError { ModelDescriptionError(layer: index, type: layer.type, message) }
            guard let type = Self.layerType(named: layer.type) else { throw fail(Self.unknownType(layer.type)) }
            let result: LayerShape
            do {
                let complete = LayerDescription(type: layer.type, arguments: try type.complete(layer.arguments))
                guard complete == layer else { throw LayerProblem("settings left out (build descriptions with LayerDescription(type:arguments:) or decode them)") }
                result = try type.check(layer, shape)
                let size = try ShapeCheck.product(result.output, "its output")
                guard size <= Self.maximumActivation, result.scratch <= Self.maximumActivation else {
                    throw LayerProblem("its output \(result.output) has \(max(size, result.scratch)) values per image; at most \(Self.maximumActivation) are allowed")
                }
                stored = try ShapeCheck.sum(stored, try ShapeCheck.sum(result.parameters, result.buffers, "its parameter count"), "the parameter count")
                guard stored <= Self.maximumParameters else {
                    throw LayerProblem("the network would hold more than \(Self.maximumParameters) parameters")
                }
                working = try ShapeCheck.sum(working, size + result.scratch, "the working memory")
                guard working <= Self.maximumWorkingValues else {
                    throw LayerProblem("with it, one image keeps more than \(Self.maximumWorkingValues) values (\(Check.gibibytes(Self.maximumWorkingValues))) alive in the layers' outputs, the most allowed")
                }
            } catch let problem as LayerProblem {
                throw fail(problem.message)
            }
            shape = result.output
            shapes.append(shape)
            parameters += result.parameters
        }
        if let classes, shape != [classes] {
            throw ModelDescriptionError("the network's output is \(shape); it must be [\(classes)], one value per class"
                + (shape.count > 1 && shape.reduce(1, *) == classes ? " (add a Flatten)" : ""))
        }
        return Check(shapes: shapes, parameterCount: parameters, workingValuesPerImage: working)
    }

    static func unknownType(_ name: String) -> String {
        "unknown type '\(name)' (known: \(layerTypes.map(\.name).joined(separator: ", ")); a layer type of one's own is known to a program that registers it with ModelDescription.register(_:))"
    }

    private static func checked<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let problem as LayerProblem { throw ModelDescriptionError(problem.message) }
    }

    // MARK: JSON

    private enum Key: String, CodingKey, CaseIterable {
        case inputShape = "input_shape", layers
    }

    public init(from decoder: Decoder) throws {
        let keys = try decoder.container(keyedBy: AnyCodingKey.self)
        for key in keys.allKeys where Key(rawValue: key.stringValue) == nil {
            throw ModelDescriptionError("unknown key '\(key.stringValue)' (known: input_shape, layers)")
        }
        let container = try decoder.container(keyedBy: Key.self)
        inputShape = try container.decode([Int].self, forKey: .inputShape)
        layers = try container.decode([LayerDescription].self, forKey: .layers)
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(inputShape, forKey: .inputShape)
        try container.encode(layers, forKey: .layers)
    }

    /// The description as JSON, keys in a fixed order (`type` first, then the settings as the layer type lists
    /// them); `pretty` puts each layer on its own line.
    public func json(pretty: Bool = false) -> String {
        let shape = "[" + inputShape.map(String.init).joined(separator: ", ") + "]"
        let items = layers.map(\.json)
        if pretty {
            return "{\"input_shape\": \(shape),\n \"layers\": [\n  " + items.joined(separator: ",\n  ") + "\n ]}\n"
        }
        return "{\"input_shape\": \(shape), \"layers\": [" + items.joined(separator: ", ") + "]}"
    }

    /// Decodes and validates a description; errors name `name` (the file) and what was wrong.
    public static func parse(_ data: Data, name: String) throws -> ModelDescription {
        do {
            return try JSONDecoder().decodeRefusingRepeatedKeys(ModelDescription.self, from: data)
        } catch let error as RepeatedJSONKey {
            throw ModelDescriptionError(file: name, ModelDescriptionError("\(error)"))
        } catch let error as ModelDescriptionError {
            throw ModelDescriptionError(file: name, error)
        } catch let error as DecodingError {
            throw ModelDescriptionError(file: name, ModelDescriptionError(Self.explain(error)))
        }
    }

    /// Reads, decodes and validates a description file; errors name the file.
    public static func read(_ path: String) throws -> ModelDescription {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelDescriptionError(file: path, ModelDescriptionError(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"))
        }
        return try parse(data, name: path)
    }

    private static func explain(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String {
            var text = ""
            for key in path {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "the top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return context.codingPath.isEmpty ? "missing key '\(key.stringValue)'" : "\(at(context.codingPath)): missing key '\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            let name = "\(type)"
            let expected = name.hasPrefix("Array") ? "a list" + (context.codingPath.last?.stringValue == Key.inputShape.rawValue ? " of whole numbers" : "")
                : name.hasPrefix("Dictionary") ? "an object" : name == "Int" ? "a whole number" : name == "String" ? "a string" : name
            return "\(at(context.codingPath)): expected \(expected)"
        case .valueNotFound(let type, let context):
            return "\(at(context.codingPath)): expected \(type), found null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let underlying = context.underlyingError.map { $0 as NSError }?.userInfo[NSDebugDescriptionErrorKey] as? String
                return "not valid JSON (\(underlying ?? context.debugDescription))"
            }
            return "\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// One layer of a `ModelDescription`: its PyTorch class name and constructor arguments (all of them once decoded
/// or described: left-out settings are filled with their defaults).
public struct LayerDescription: Codable, Sendable, Equatable, CustomStringConvertible {
    public var type: String
    public var arguments: [String: LayerArgument]

    /// A description with `arguments` completed by the layer type's defaults (unchanged when the type is unknown
    /// or an argument wrong: `ModelDescription.validate` reports those).
    public init(type: String, arguments: [String: LayerArgument] = [:]) {
        self.type = type
        self.arguments = (try? ModelDescription.layerType(named: type)?.complete(arguments)) ?? arguments
    }

    public func int(_ name: String) -> Int {
        switch arguments[name] {
        case .int(let value): value
        case .number(let value) where value == value.rounded() && abs(value) < 1e15: Int(value)
        default: preconditionFailure("\(type) has no whole-number setting \(name)")
        }
    }

    public func number(_ name: String) -> Double {
        switch arguments[name] {
        case .number(let value): value
        case .int(let value): Double(value)
        default: preconditionFailure("\(type) has no number setting \(name)")
        }
    }

    public func bool(_ name: String) -> Bool {
        guard case .bool(let value) = arguments[name] else { preconditionFailure("\(type) has no flag \(name)") }
        return value
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        let index = decoder.codingPath.last?.intValue
        guard let type = try? container.decode(String.self, forKey: AnyCodingKey("type")) else {
            throw ModelDescriptionError(layer: index, type: nil, "needs a \"type\" naming the layer class (known: \(ModelDescription.layerTypes.map(\.name).joined(separator: ", ")))")
        }
        guard let layerType = ModelDescription.layerType(named: type) else {
            throw ModelDescriptionError(layer: index, type: type, ModelDescription.unknownType(type))
        }
        var arguments: [String: LayerArgument] = [:]
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where key.stringValue != "type" {
            guard let setting = layerType.settings.first(where: { $0.name == key.stringValue }) else {
                arguments[key.stringValue] = .bool(false)  // complete() reports it with the known keys
                continue
            }
            guard let value = try? container.decode(LayerArgument.self, forKey: key) else {
                throw ModelDescriptionError(layer: index, type: type, "\(key.stringValue) must be \(setting.kind.expected)")
            }
            arguments[key.stringValue] = value
        }
        do {
            self.arguments = try layerType.complete(arguments)
        } catch let problem as LayerProblem {
            throw ModelDescriptionError(layer: index, type: type, problem.message)
        }
        self.type = type
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        try container.encode(type, forKey: AnyCodingKey("type"))
        for name in orderedNames { try container.encode(arguments[name]!, forKey: AnyCodingKey(name)) }
    }

    /// Argument names in the layer type's order (sorted for an unknown type).
    private var orderedNames: [String] {
        let declared = ModelDescription.layerType(named: type)?.settings.map(\.name) ?? []
        return declared.filter { arguments[$0] != nil } + arguments.keys.filter { !declared.contains($0) }.sorted()
    }

    /// `{"type": "Linear", "in_features": 784, "out_features": 10, "bias": true}`.
    public var json: String {
        let typeText = String(decoding: (try? JSONEncoder().encode(type)) ?? Data("\"?\"".utf8), as: UTF8.self)
        return "{" + (["\"type\": \(typeText)"] + orderedNames.map { "\"\($0)\": \(arguments[$0]!)" }).joined(separator: ", ") + "}"
    }

    public var description: String { json }
}

/// A description that cannot be used: the file, the layer (index and type) and what was wrong.
public struct ModelDescriptionError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    /// `layer 4 (Linear): in_features 700 does not match its input, 1568 values ([32, 7, 7])`.
    public init(layer index: Int?, type: String?, _ message: String) {
        let name = index.map { "layer \($0)" + (type.map { " (\($0))" } ?? "") } ?? type ?? "a layer"
        self.message = "\(name): \(message)"
    }

    /// The same error, prefixed by the file it came from.
    public init(file: String, _ error: ModelDescriptionError) { message = "\(file): \(error.message)" }

    public var description: String { message }
}

/// A coding key for any name (layer settings, unknown keys).
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?
    init(_ string: String) { stringValue = string; intValue = nil }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

extension Sequential {
    /// The network `description` describes, its parameters drawn from `seed` layer by layer as the built-in
    /// factories do (dropout layers seeded `seed &+ 1`, `seed &+ 2`, … in order). Validates first (see
    /// `ModelDescription.validate`; `inputValues` and `classes` nil skip those checks).
    public convenience init(description: ModelDescription, seed: UInt64, inputValues: Int? = 784, classes: Int? = 10) throws {
        let check = try description.validate(inputValues: inputValues, classes: classes)
        var builder = LayerBuilder(seed: seed)
        var layers: [Layer] = []
        for (index, layer) in description.layers.enumerated() {
            let type = ModelDescription.layerType(named: layer.type)!  // validate checked it
            layers.append(type.make(layer, index == 0 ? description.inputShape : check.shapes[index - 1], &builder))
        }
        self.init(inputShape: description.inputShape, layers)
    }
}

/// The layer types a program registered, shared by every thread.
private final class RegisteredLayerTypes: @unchecked Sendable {
    private let lock = NSLock()
    private var registered: [LayerType] = []

    var types: [LayerType] { lock.withLock { registered } }

    func add(_ type: LayerType) throws {
        try lock.withLock {
            guard !ModelDescription.builtinLayerTypes.contains(where: { $0.name == type.name }), !registered.contains(where: { $0.name == type.name }) else {
                throw ModelDescriptionError(layer: nil, type: type.name, "is already a known layer type; a registered type needs a name of its own")
            }
            registered.append(type)
        }
    }
}
