import FashionCore
import FashionData
import FashionEngine
import FashionTraining
import Foundation
import SwiftProtobuf

/// FashionLab models as ONNX (opset ``opsetVersion``), self-contained: a consumer such as onnxruntime feeds the raw
/// pixel values 0…255 as float32 and gets one logit per class.
///
/// The graph's input is `pixels`, `[batch] + input_shape` (`[batch, 784]` for the MLP, `[batch, 1, 28, 28]` for the
/// CNNs); its first nodes apply the run's input encoding exactly as FashionLab computes it (`Div` by 255 when the
/// run scales, then `Sub` the mean and `Div` by the standard deviation when it normalises); then one node per layer:
///
/// | FashionLab layer | ONNX |
/// | --- | --- |
/// | Linear | `Gemm` (`transB` = 1: the weight stays PyTorch's `[out, in]`) |
/// | Conv2d | `Conv` |
/// | BatchNorm1d, BatchNorm2d | `BatchNormalization` (inference form: the running statistics) |
/// | ReLU | `Relu` |
/// | MaxPool2d, AvgPool2d | `MaxPool`, `AveragePool` |
/// | AdaptiveAvgPool2d (1) | `GlobalAveragePool` |
/// | Flatten | `Flatten` (`axis` = 1) |
/// | Dropout | nothing (the identity at inference) |
///
/// The output is `logits`, `[batch, classes]`. Weights keep their `state_dict` names (`0.weight`, …). The model's
/// `metadata_props` hold `class_names` (a JSON list, in label order), `fashionlab_model` (the model description)
/// and `fashionlab_encoding` (the encoding the first nodes apply, as JSON).
public enum ONNXExport {
    /// The operator set the files use (onnxruntime 1.14 and later run it).
    public static let opsetVersion: Int64 = 17
    /// The ONNX file format version that goes with opset 17.
    public static let irVersion: Int64 = 8
    /// The graph's input and output names.
    public static let inputName = "pixels", outputName = "logits"
    /// `metadata_props` keys.
    public static let classNamesKey = "class_names", encodingKey = ModelFile.encodingKey

    /// What ``export(from:to:)`` wrote.
    public struct Summary: Sendable {
        /// The file written.
        public let path: String
        /// Its size in bytes.
        public let bytes: Int
        /// The graph's nodes, the encoding's included.
        public let nodes: Int
        /// The input shape of one image (without the batch dimension) and the number of classes.
        public let inputShape: [Int]
        public let classes: Int
        /// The input encoding built into the graph.
        public let encoding: PixelEncoding
    }

    /// Exports the model of a run directory, a checkpoint or a model file (whatever `ModelFile.load` reads) to
    /// `output`, written atomically; nil writes `model.onnx` in a run directory, or beside a file with the extension
    /// `.onnx`. Errors name the file and what is wrong.
    @discardableResult
    public static func export(from path: String, to output: String? = nil) throws -> Summary {
        let (model, config) = try ModelFile.load(path)
        let destination = output ?? defaultOutput(for: path)
        let data = try serialized(model, encoding: config.encoding, classNames: FashionMNIST.classNames, source: path)
        try AtomicFile.write(data, to: destination)
        let proto = try ONNXModelProto(serializedBytes: data)
        return Summary(path: destination, bytes: data.count, nodes: proto.graph.node.count, inputShape: model.inputShape,
                       classes: FashionMNIST.classNames.count, encoding: config.encoding)
    }

    /// Where ``export(from:to:)`` writes when no file is given: `RUN/model.onnx`, or `FILE.onnx` beside `FILE`.
    public static func defaultOutput(for path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return (path as NSString).appendingPathComponent(RunDirectory.onnxFile)
        }
        return ((path as NSString).deletingPathExtension) + ".onnx"
    }

    /// The ONNX file of `model`, whose inputs are encoded by `encoding`, for classes `classNames`; `source` names
    /// the model in errors.
    public static func serialized(_ model: Sequential, encoding: PixelEncoding, classNames: [String], source: String) throws -> Data {
        try proto(model, encoding: encoding, classNames: classNames, source: source).serializedBytes()
    }

    /// The ONNX model of `model` as a message.
    static func proto(_ model: Sequential, encoding: PixelEncoding, classNames: [String], source: String) throws -> ONNXModelProto {
        let description: ModelDescription
        do {
            description = try ModelDescription(model)
        } catch let error as ModelDescriptionError {
            throw ONNXError(source, "cannot be exported: \(error.message)")
        }
        let outputShape = model.outputShape(for: model.inputShape)
        guard outputShape == [classNames.count] else {
            throw ONNXError(source, "the network's output is \(outputShape); ONNX export needs [\(classNames.count)], one logit per class")
        }
        var builder = ONNXGraphBuilder(name: "fashionlab")
        let weights = model.stateDict()
        var value = encodingNodes(encoding, into: &builder)
        for (index, layer) in description.layers.enumerated() {
            value = try layerNodes(layer, index: index, input: value, weights: weights, into: &builder, source: source)
        }
        value = builder.node("Identity", [value], output: outputName)
        var graph = builder.graph
        graph.input = [ONNXGraphBuilder.floatTensor(inputName, shape: [nil] + model.inputShape.map { $0 },
                                                    doc: "raw pixel values 0…255 as float32")]
        graph.output = [ONNXGraphBuilder.floatTensor(outputName, shape: [nil, classNames.count],
                                                     doc: "one logit per class, in the order of class_names")]
        var proto = ONNXModelProto()
        proto.irVersion = irVersion
        proto.producerName = "FashionLab"
        proto.producerVersion = FashionLabVersion.current
        var opset = ONNXOperatorSetIdProto()
        opset.version = opsetVersion
        proto.opsetImport = [opset]
        proto.graph = graph
        proto.metadataProps = [
            entry(classNamesKey, json(classNames)),
            entry(ModelDescription.metadataKey, description.json()),
            entry(encodingKey, json(encoding)),
        ]
        return proto
    }

    /// The nodes that turn raw pixels into the network's inputs, computed in float32 as `PixelEncoding.table` does
    /// (a division by 255, not a multiplication by its inverse); returns the name of the encoded value.
    static func encodingNodes(_ encoding: PixelEncoding, into builder: inout ONNXGraphBuilder) -> String {
        var value = inputName
        if encoding.scale {
            value = builder.node("Div", [value, builder.scalar("input_scale", 255)], output: "scaled")
        }
        if let normalization = encoding.normalization {
            value = builder.node("Sub", [value, builder.scalar("input_mean", normalization.mean)], output: "centred")
            value = builder.node("Div", [value, builder.scalar("input_std", normalization.std)], output: "normalised")
        }
        return value
    }

    /// The node(s) of layer `index` applied to `input`; returns the output's name.
    static func layerNodes(_ layer: LayerDescription, index: Int, input: String, weights: Safetensors,
                           into builder: inout ONNXGraphBuilder, source: String) throws -> String {
        func tensor(_ name: String) throws -> String {
            let full = "\(index).\(name)"
            guard let entry = weights[full], entry.dtype == "F32" else {
                throw ONNXError(source, "layer \(index) (\(layer.type)): no float32 tensor '\(full)'")
            }
            let values = entry.floats()
            return values.withUnsafeBufferPointer { builder.initializer(full, shape: entry.shape, values: $0) }
        }
        let output = "\(index)_\(layer.type.lowercased())"
        switch layer.type {
        case "Linear":
            let inputs = try [input, tensor("weight")] + (layer.bool("bias") ? [tensor("bias")] : [])
            return builder.node("Gemm", inputs, output: output, attributes: [.int("transB", 1)])
        case "Conv2d":
            let inputs = try [input, tensor("weight")] + (layer.bool("bias") ? [tensor("bias")] : [])
            let (size, stride, padding) = (layer.int("kernel_size"), layer.int("stride"), layer.int("padding"))
            return builder.node("Conv", inputs, output: output, attributes: [
                .ints("kernel_shape", [size, size]), .ints("strides", [stride, stride]), .ints("pads", [padding, padding, padding, padding]),
            ])
        case "BatchNorm1d", "BatchNorm2d":
            let inputs = try [input, tensor("weight"), tensor("bias"), tensor("running_mean"), tensor("running_var")]
            return builder.node("BatchNormalization", inputs, output: output, attributes: [.float("epsilon", Float(layer.number("eps")))])
        case "ReLU":
            return builder.node("Relu", [input], output: output)
        case "MaxPool2d", "AvgPool2d":
            let size = layer.int("kernel_size")
            return builder.node(layer.type == "MaxPool2d" ? "MaxPool" : "AveragePool", [input], output: output,
                                attributes: [.ints("kernel_shape", [size, size]), .ints("strides", [size, size])])
        case "AdaptiveAvgPool2d":
            return builder.node("GlobalAveragePool", [input], output: output)
        case "Flatten":
            return builder.node("Flatten", [input], output: output, attributes: [.int("axis", 1)])
        case "Dropout":
            return input
        default:
            throw ONNXError(source, "layer \(index) (\(layer.type)) has no ONNX form in FashionLab's exporter")
        }
    }

    static func entry(_ key: String, _ value: String) -> ONNXStringStringEntryProto {
        var entry = ONNXStringStringEntryProto()
        entry.key = key
        entry.value = value
        return entry
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}

/// An ONNX file that cannot be written or read: the file and what was wrong.
public struct ONNXError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let message: String
    public init(_ file: String, _ message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}
