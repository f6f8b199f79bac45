import FashionEngine
import Foundation

/// Builds an ONNX graph node by node: each node's output gets a fresh name, constants become initializers.
struct ONNXGraphBuilder {
    private(set) var graph = ONNXGraphProto()
    private var names = Set<String>()

    init(name: String) { graph.name = name }

    /// Adds a constant tensor (float32, little-endian raw data) named `name`; returns the name.
    @discardableResult
    mutating func initializer(_ name: String, shape: [Int], values: UnsafeBufferPointer<Float>) -> String {
        var tensor = ONNXTensorProto()
        tensor.name = name
        tensor.dataType = Int32(ONNXTensorProto.DataType.float.rawValue)
        tensor.dims = shape.map(Int64.init)
        tensor.rawData = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { tensor.rawData.append(contentsOf: $0) } }
        graph.initializer.append(tensor)
        return name
    }

    /// A float32 scalar constant.
    mutating func scalar(_ name: String, _ value: Float) -> String {
        [value].withUnsafeBufferPointer { initializer(name, shape: [], values: $0) }
    }

    /// Adds a node of `operation` over `inputs`; its output is named `output` (made unique) and returned.
    mutating func node(_ operation: String, _ inputs: [String], output: String, attributes: [ONNXAttributeProto] = []) -> String {
        var name = output, suffix = 1
        while names.contains(name) { suffix += 1; name = "\(output)_\(suffix)" }
        names.insert(name)
        var node = ONNXNodeProto()
        node.opType = operation
        node.name = name
        node.input = inputs
        node.output = [name]
        node.attribute = attributes
        graph.node.append(node)
        return name
    }

    /// A float32 tensor value of `shape`, where nil dimensions are named `batch` (any size).
    static func floatTensor(_ name: String, shape: [Int?], doc: String) -> ONNXValueInfoProto {
        var info = ONNXValueInfoProto()
        info.name = name
        info.docString = doc
        var tensor = ONNXTypeProto.Tensor()
        tensor.elemType = Int32(ONNXTensorProto.DataType.float.rawValue)
        tensor.shape.dim = shape.map { size in
            var dimension = ONNXTensorShapeProto.Dimension()
            if let size { dimension.dimValue = Int64(size) } else { dimension.dimParam = "batch" }
            return dimension
        }
        info.type.tensorType = tensor
        return info
    }
}

extension ONNXAttributeProto {
    /// An integer attribute.
    static func int(_ name: String, _ value: Int) -> ONNXAttributeProto {
        var attribute = ONNXAttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    /// A list-of-integers attribute.
    static func ints(_ name: String, _ values: [Int]) -> ONNXAttributeProto {
        var attribute = ONNXAttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    /// A float attribute.
    static func float(_ name: String, _ value: Float) -> ONNXAttributeProto {
        var attribute = ONNXAttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = value
        return attribute
    }
}
