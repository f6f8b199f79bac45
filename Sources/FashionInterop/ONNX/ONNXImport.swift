import FashionCore
import FashionEngine
import FashionTraining
import Foundation

/// ONNX models as FashionLab models: a graph that is a chain of FashionLab's layers — what `torch.onnx.export`
/// writes for an `nn.Sequential` of them, and what ``ONNXExport`` writes — becomes the same `Sequential`, with its
/// weights, and the input encoding its first nodes apply.
///
/// Operators and the layers they become: `Gemm` (`alpha` = `beta` = 1, `transA` = 0) → Linear; `Conv` (square
/// kernel, equal strides and pads, no dilation, one group) → Conv2d; `BatchNormalization` (inference) →
/// BatchNorm2d on images, BatchNorm1d on vectors; `Relu` → ReLU; `MaxPool`, `AveragePool` (square window, stride
/// equal to it, no padding) → MaxPool2d, AvgPool2d; `GlobalAveragePool` → AdaptiveAvgPool2d(1); `Flatten`
/// (`axis` = 1) → Flatten; `Identity` and inference `Dropout` are skipped; `Constant` nodes, and `Identity` nodes of
/// constants, give values.
/// Before the first layer, `Div` by 255, then `Sub` a mean and `Div` by a standard deviation (scalars) are the
/// input encoding (``ONNXExport/encodingNodes(_:into:)`` writes them; a PyTorch module computing
/// `(x / 255 - mean) / std` exports as them). A graph without them takes its input as it is, unless its
/// `metadata_props` give `fashionlab_encoding` (`{"scale": true, "normalization": {"mean": …, "std": …}}`).
/// Anything else is an error that names the operators FashionLab does not have.
public enum ONNXImport {
    /// The model in the ONNX file at `path` and settings that say how its inputs are encoded (a `custom` model
    /// with the imported description); errors name the file and what is wrong.
    public static func load(_ path: String) throws -> (model: Sequential, config: TrainingConfig) {
        try load(ONNXFile.read(path), path: path)
    }

    /// The model in ONNX bytes already read (`name` names them in errors).
    public static func load(_ data: Data, name: String) throws -> (model: Sequential, config: TrainingConfig) {
        try load(ONNXFile.parse(data, name: name), path: name)
    }

    static func load(_ proto: ONNXModelProto, path: String) throws -> (model: Sequential, config: TrainingConfig) {
        var reader = try ONNXGraphReader(proto, path: path)
        try reader.readNodes()
        let encoding = try reader.encoding(metadata: proto.metadataProps)
        let description = ModelDescription(inputShape: reader.inputShape, layers: reader.layers)
        let model: Sequential
        do {
            model = try Sequential(description: description, seed: 0)
        } catch let error as ModelDescriptionError {
            throw ONNXError(path, "its layers do not make a Fashion-MNIST classifier: \(error.message)")
        }
        try model.load(reader.weights, name: path)
        var config = TrainingConfig()
        config.model = .custom
        config.architecture = description
        config.scale = encoding.scale
        config.normalization = encoding.normalization
        return (model, config)
    }
}

/// Walks an ONNX graph node by node, turning each into a layer description and its weights.
struct ONNXGraphReader {
    let path: String
    let graph: ONNXGraphProto
    /// One input image's shape, from the graph's input (its first dimension is the batch).
    let inputShape: [Int]
    private(set) var layers: [LayerDescription] = []
    private(set) var weights = Safetensors()
    /// The encoding nodes before the first layer: (operator, scalar).
    private(set) var prefix: [(operation: String, value: Float)] = []
    /// Constants by name: initializers and `Constant` nodes, read when a node uses them.
    private var constants: [String: ONNXTensorProto] = [:]
    /// The name of the value the next node must take, and the shape of one image of it.
    private var current: String
    private var shape: [Int]

    init(_ proto: ONNXModelProto, path: String) throws {
        self.path = path
        guard proto.hasGraph else { throw ONNXError(path, "has no graph") }
        graph = proto.graph
        for opset in proto.opsetImport where opset.domain.isEmpty || opset.domain == "ai.onnx" {
            guard opset.version >= 9 else { throw ONNXError(path, "uses ONNX opset \(opset.version); FashionLab reads opset 9 and later") }
        }
        var initializers: [String: ONNXTensorProto] = [:]
        for tensor in graph.initializer { initializers[tensor.name] = tensor }
        constants = initializers
        let inputs = graph.input.filter { initializers[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw ONNXError(path, "has \(inputs.count) graph inputs (\(inputs.map(\.name).joined(separator: ", "))); FashionLab reads models with one, the images")
        }
        guard graph.output.count == 1 else { throw ONNXError(path, "has \(graph.output.count) graph outputs; FashionLab reads models with one, the logits") }
        guard case .tensorType(let type)? = input.type.value, type.elemType == Int32(ONNXTensorProto.DataType.float.rawValue) else {
            throw ONNXError(path, "its input '\(input.name)' is not a float32 tensor")
        }
        let dims = type.shape.dim
        guard dims.count == 2 || dims.count == 4 else {
            throw ONNXError(path, "its input '\(input.name)' has \(dims.count) dimensions; FashionLab reads [batch, values] or [batch, channels, height, width]")
        }
        inputShape = try dims.dropFirst().map { dimension in
            guard case .dimValue(let size)? = dimension.value, size >= 1, size <= ModelDescription.maximumActivation else {
                throw ONNXError(path, "its input '\(input.name)' needs fixed positive sizes after the batch dimension")
            }
            return Int(size)
        }
        current = input.name
        shape = inputShape
    }

    /// Reads every node in order; errors name the node, or every operator FashionLab does not have.
    mutating func readNodes() throws {
        let known: Set<String> = ["Constant", "Identity", "Dropout", "Gemm", "Conv", "BatchNormalization", "Relu", "MaxPool",
                                  "AveragePool", "GlobalAveragePool", "Flatten", "Div", "Sub"]
        let unsupported = Set(graph.node.map { node in
            node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
        }).subtracting(known)
        guard unsupported.isEmpty else {
            throw ONNXError(path, "uses operators FashionLab does not have: \(unsupported.sorted().joined(separator: ", ")) "
                + "(it reads Gemm, Conv, BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool, Flatten, Dropout, Identity, "
                + "and Div/Sub for the input encoding)")
        }
        for (index, node) in graph.node.enumerated() {
            try read(node, index: index)
        }
        guard current == graph.output[0].name else {
            throw ONNXError(path, "its output '\(graph.output[0].name)' is not the last layer's output '\(current)'")
        }
        guard !layers.isEmpty else { throw ONNXError(path, "has no layers") }
    }

    private mutating func read(_ node: ONNXNodeProto, index: Int) throws {
        let where_ = "node \(index) (\(node.opType)\(node.name.isEmpty ? "" : " '\(node.name)'"))"
        let path = self.path
        let fail = { (message: String) in ONNXError(path, "\(where_): \(message)") }
        if node.opType == "Constant" {
            guard node.output.count == 1, let value = node.attribute.first(where: { $0.name == "value" }), value.type == .tensor else {
                throw fail("FashionLab reads Constant nodes with one tensor 'value'")
            }
            constants[node.output[0]] = value.t
            return
        }
        // An Identity of a constant names the same values again (PyTorch's exporter writes one for each initializer
        // equal to another, e.g. the running variance of an untrained BatchNorm and its weight, both ones).
        if node.opType == "Identity", node.output.count == 1, let source = node.input.first, source != current, let value = constants[source] {
            constants[node.output[0]] = value
            return
        }
        guard let first = node.input.first, first == current else {
            throw fail("does not take the previous layer's output '\(current)' first; FashionLab reads a chain of layers (an nn.Sequential)")
        }
        guard let output = node.output.first, !output.isEmpty else { throw fail("has no output") }
        let attributes = try ONNXAttributes(node, fail: fail)
        switch node.opType {
        case "Identity":
            break
        case "Dropout":
            let training = node.input.count >= 3 && !node.input[2].isEmpty ? try constant(node.input[2], fail: fail) : []
            guard training.allSatisfy({ $0 == 0 }) else { throw fail("training_mode is on; FashionLab reads inference models") }
        case "Div", "Sub":
            guard layers.isEmpty else { throw fail("\(node.opType) between layers is not a FashionLab layer (only the input encoding, before the first layer)") }
            guard node.input.count == 2 else { throw fail("needs two inputs") }
            let values = try constant(node.input[1], fail: fail)
            guard values.count == 1, values[0].isFinite else { throw fail("FashionLab's input encoding divides and subtracts one number (a scalar)") }
            prefix.append((node.opType, values[0]))
        case "Gemm":
            try attributes.expect(floats: ["alpha": 1, "beta": 1], ints: ["transA": 0])
            guard shape.count == 1 else { throw fail("takes \(shape), not a flat vector (add a Flatten before it)") }
            var weight = try tensor(node.input[safe: 1], fail: fail)
            guard weight.shape.count == 2 else { throw fail("its weight has shape \(weight.shape); expected 2 dimensions") }
            if attributes.int("transB", default: 0) == 0 { weight = weight.transposed() }
            let (out, inputs) = (weight.shape[0], weight.shape[1])
            let bias = try node.input.count > 2 && !node.input[2].isEmpty ? tensor(node.input[2], fail: fail) : nil
            if let bias, bias.values.count != out { throw fail("its bias has \(bias.values.count) values; expected \(out)") }
            addLayer(.linear(inputs, out, bias: bias != nil), ["weight": weight, "bias": bias])
            try advanceShape(fail: fail)
        case "Conv":
            let weight = try tensor(node.input[safe: 1], fail: fail)
            guard weight.shape.count == 4, weight.shape[2] == weight.shape[3] else { throw fail("its weight has shape \(weight.shape); expected [out, in, k, k]") }
            let size = weight.shape[2]
            try attributes.expect(ints: ["group": 1], lists: ["kernel_shape": [size, size], "dilations": [1, 1]], strings: ["auto_pad": "NOTSET"])
            let stride = try attributes.square("strides", default: 1)
            let pads = attributes.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, Set(pads).count == 1, let padding = pads.first, padding >= 0 else { throw fail("pads \(pads) are not the same on every side") }
            let bias = try node.input.count > 2 && !node.input[2].isEmpty ? tensor(node.input[2], fail: fail) : nil
            if let bias, bias.values.count != weight.shape[0] { throw fail("its bias has \(bias.values.count) values; expected \(weight.shape[0])") }
            let description = LayerDescription.conv2d(weight.shape[1], weight.shape[0], kernelSize: size, stride: stride, padding: padding, bias: bias != nil)
            addLayer(description, ["weight": weight, "bias": bias])
            try advanceShape(fail: fail)
        case "BatchNormalization":
            guard attributes.int("training_mode", default: 0) == 0, node.output.count == 1 || node.output.dropFirst().allSatisfy(\.isEmpty) else {
                throw fail("is in training mode; FashionLab reads inference models")
            }
            guard node.input.count == 5 else { throw fail("needs 5 inputs (x, scale, B, mean, var)") }
            let (scale, bias, mean, variance) = try (tensor(node.input[1], fail: fail), tensor(node.input[2], fail: fail),
                                                     tensor(node.input[3], fail: fail), tensor(node.input[4], fail: fail))
            let channels = shape.first ?? 0
            for part in [scale, bias, mean, variance] where part.values.count != channels {
                throw fail("has \(part.values.count) values per statistic; its input \(shape) has \(channels) channels")
            }
            let epsilon = attributes.float("epsilon", default: 1e-5)
            guard epsilon > 0, epsilon.isFinite else { throw fail("epsilon \(epsilon) must be positive") }
            let description: LayerDescription = shape.count == 3 ? .batchNorm2d(channels, eps: epsilon) : .batchNorm1d(channels, eps: epsilon)
            addLayer(description, ["weight": scale.vector, "bias": bias.vector, "running_mean": mean.vector, "running_var": variance.vector])
            try advanceShape(fail: fail)
        case "Relu":
            addLayer(.relu, [:])
            try advanceShape(fail: fail)
        case "MaxPool", "AveragePool":
            let size = try attributes.square("kernel_shape", default: nil)
            try attributes.expect(ints: ["ceil_mode": 0, "storage_order": 0], lists: ["pads": [0, 0, 0, 0], "dilations": [1, 1], "strides": [size, size]],
                                  strings: ["auto_pad": "NOTSET"])
            guard node.output.count == 1 || node.output.dropFirst().allSatisfy(\.isEmpty) else { throw fail("FashionLab's pooling has no indices output") }
            addLayer(node.opType == "MaxPool" ? .maxPool2d(size) : .avgPool2d(size), [:])
            try advanceShape(fail: fail)
        case "GlobalAveragePool":
            addLayer(.adaptiveAvgPool2d, [:])
            try advanceShape(fail: fail)
        case "Flatten":
            try attributes.expect(ints: ["axis": 1])
            addLayer(.flatten, [:])
            try advanceShape(fail: fail)
        default:
            throw fail("is not an operator FashionLab has")
        }
        current = output
    }

    /// The shape after the layer just added, from the layer type's own check (which also validates it).
    private mutating func advanceShape(fail: (String) -> ONNXError) throws {
        let layer = layers[layers.count - 1]
        do {
            shape = try ModelDescription.layerType(named: layer.type)!.check(layer, shape).output
        } catch let problem as LayerProblem {
            throw fail(problem.message)
        }
    }

    private mutating func addLayer(_ layer: LayerDescription, _ tensors: [String: ONNXTensorValue?]) {
        let index = layers.count
        layers.append(layer)
        for (name, tensor) in tensors { if let tensor { weights.set("\(index).\(name)", Safetensors.Entry(shape: tensor.shape, floats: tensor.values)) } }
        if layer.type.hasPrefix("BatchNorm") {
            weights.set("\(index).num_batches_tracked", Safetensors.Entry(dtype: "I64", shape: [], bytes: [UInt8](repeating: 0, count: 8)))
        }
    }

    private func tensor(_ name: String?, fail: (String) -> ONNXError) throws -> ONNXTensorValue {
        guard let name, let proto = constants[name] else { throw fail("its input '\(name ?? "")' is not a constant (weights must be initializers)") }
        do {
            return try ONNXTensorValue(proto)
        } catch let problem as LayerProblem {
            throw fail("tensor '\(name)': \(problem.message)")
        }
    }

    private func constant(_ name: String, fail: (String) -> ONNXError) throws -> [Float] {
        try tensor(name, fail: fail).values
    }

    private func isScaling(_ step: (operation: String, value: Float)) -> Bool { step.operation == "Div" && step.value == 255 }

    /// The input encoding the prefix nodes (or, without them, the metadata) describe.
    func encoding(metadata: [ONNXStringStringEntryProto]) throws -> PixelEncoding {
        let steps = prefix.map { "\($0.operation) \($0.value)" }
        switch prefix.count {
        case 0:
            guard let text = metadata.last(where: { $0.key == ONNXExport.encodingKey })?.value else { return PixelEncoding(scale: false) }
            do {
                return try JSONDecoder().decode(PixelEncoding.self, from: Data(text.utf8))
            } catch {
                throw ONNXError(path, "its metadata '\(ONNXExport.encodingKey)' is not an encoding ({\"scale\": true, \"normalization\": {\"mean\": …, \"std\": …}}): \(error)")
            }
        case 1 where isScaling(prefix[0]):
            return PixelEncoding(scale: true)
        case 2 where prefix[0].operation == "Sub" && prefix[1].operation == "Div" && prefix[1].value > 0:
            return PixelEncoding(scale: false, normalization: .init(mean: prefix[0].value, std: prefix[1].value))
        case 3 where isScaling(prefix[0]) && prefix[1].operation == "Sub" && prefix[2].operation == "Div" && prefix[2].value > 0:
            return PixelEncoding(scale: true, normalization: .init(mean: prefix[1].value, std: prefix[2].value))
        default:
            throw ONNXError(path, "its input nodes (\(steps.joined(separator: ", "))) are not an encoding FashionLab has: Div 255 to scale, then Sub mean and Div std to normalise")
        }
    }
}

/// A float tensor read from an ONNX file, checked: float32 or float64, its data as long as its shape says.
struct ONNXTensorValue {
    let shape: [Int]
    let values: [Float]

    init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    init(_ proto: ONNXTensorProto) throws {
        guard proto.dataLocation != .external, proto.externalData.isEmpty else {
            throw LayerProblem("its data is in another file (external data), which FashionLab does not read")
        }
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(ModelDescription.maximumParameters) }) else {
            throw LayerProblem("has dimensions \(proto.dims)")
        }
        shape = proto.dims.map { Int($0) }
        let count = try ShapeCheck.product(shape, "its shape \(shape)")
        guard count <= ModelDescription.maximumParameters else { throw LayerProblem("has \(count) values; at most \(ModelDescription.maximumParameters) are allowed") }
        switch ONNXTensorProto.DataType(rawValue: Int(proto.dataType)) {
        case .float:
            if !proto.rawData.isEmpty {
                guard proto.rawData.count == count * 4 else { throw LayerProblem("holds \(proto.rawData.count) bytes; its shape \(shape) needs \(count * 4)") }
                values = proto.rawData.withUnsafeBytes { raw in
                    (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                }
            } else {
                guard proto.floatData.count == count else { throw LayerProblem("holds \(proto.floatData.count) values; its shape \(shape) needs \(count)") }
                values = proto.floatData
            }
        case .double:
            if !proto.rawData.isEmpty {
                guard proto.rawData.count == count * 8 else { throw LayerProblem("holds \(proto.rawData.count) bytes; its shape \(shape) needs \(count * 8)") }
                values = proto.rawData.withUnsafeBytes { raw in
                    (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
                }
            } else {
                guard proto.doubleData.count == count else { throw LayerProblem("holds \(proto.doubleData.count) values; its shape \(shape) needs \(count)") }
                values = proto.doubleData.map(Float.init)
            }
        default:
            throw LayerProblem("has data type \(proto.dataType); FashionLab reads float32 and float64 weights")
        }
        guard values.allSatisfy(\.isFinite) else { throw LayerProblem("holds values that are not finite") }
    }

    /// A 2-D tensor transposed.
    func transposed() -> ONNXTensorValue {
        let (rows, columns) = (shape[0], shape[1])
        var result = [Float](repeating: 0, count: values.count)
        for r in 0..<rows { for c in 0..<columns { result[c * rows + r] = values[r * columns + c] } }
        return ONNXTensorValue(shape: [columns, rows], values: result)
    }

    /// The values as a vector (a BatchNormalization statistic).
    var vector: ONNXTensorValue { ONNXTensorValue(shape: [values.count], values: values) }
}

/// A node's attributes, read with their kinds checked.
struct ONNXAttributes {
    private let byName: [String: ONNXAttributeProto]
    private let fail: (String) -> ONNXError

    init(_ node: ONNXNodeProto, fail: @escaping (String) -> ONNXError) throws {
        var byName: [String: ONNXAttributeProto] = [:]
        for attribute in node.attribute {
            guard byName[attribute.name] == nil else { throw fail("attribute '\(attribute.name)' is given twice") }
            byName[attribute.name] = attribute
        }
        self.byName = byName
        self.fail = fail
    }

    func int(_ name: String, default value: Int) -> Int {
        guard let attribute = byName[name], attribute.type == .int else { return value }
        return Int(clamping: attribute.i)
    }

    func float(_ name: String, default value: Float) -> Float {
        guard let attribute = byName[name], attribute.type == .float else { return value }
        return attribute.f
    }

    func ints(_ name: String) -> [Int]? {
        guard let attribute = byName[name], attribute.type == .ints else { return nil }
        return attribute.ints.map { Int(clamping: $0) }
    }

    /// A two-element list attribute with equal elements (a square window), or `value` when absent.
    func square(_ name: String, default value: Int?) throws -> Int {
        guard let list = ints(name) else {
            guard let value else { throw fail("needs the attribute \(name)") }
            return value
        }
        guard list.count == 2, list[0] == list[1], list[0] >= 1 else { throw fail("\(name) \(list) is not square; FashionLab's layers are") }
        return list[0]
    }

    /// Checks that the attributes that are given have the values FashionLab's layers compute with.
    func expect(floats: [String: Float] = [:], ints: [String: Int] = [:], lists: [String: [Int]] = [:], strings: [String: String] = [:]) throws {
        func wrong(_ name: String, _ given: String, _ expected: String) -> ONNXError {
            fail("\(name) \(given) is not \(expected), the only value FashionLab computes with")
        }
        for (name, expected) in floats {
            guard let attribute = byName[name] else { continue }
            guard attribute.type == .float, attribute.f == expected else { throw wrong(name, "\(attribute.f)", "\(expected)") }
        }
        for (name, expected) in ints {
            guard let attribute = byName[name] else { continue }
            guard attribute.type == .int, attribute.i == Int64(expected) else { throw wrong(name, "\(attribute.i)", "\(expected)") }
        }
        for (name, expected) in lists {
            guard let attribute = byName[name] else { continue }
            guard attribute.type == .ints, attribute.ints == expected.map(Int64.init) else { throw wrong(name, "\(attribute.ints)", "\(expected)") }
        }
        for (name, expected) in strings {
            guard let attribute = byName[name] else { continue }
            let given = String(decoding: attribute.s, as: UTF8.self)
            guard attribute.type == .string, given == expected else { throw wrong(name, "'\(given)'", "'\(expected)'") }
        }
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
