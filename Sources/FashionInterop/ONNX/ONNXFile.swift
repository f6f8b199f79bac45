import FashionEngine
import Foundation
import SwiftProtobuf

/// Reading ONNX files: bounded in size, parsed into the messages of FashionLab's ONNX schema (fields it does not
/// know are kept as unknown fields and ignored).
enum ONNXFile {
    /// The largest ONNX file FashionLab reads: the most parameters a model may hold as float32, plus room for the
    /// graph (and below protobuf's own 2 GiB limit).
    static let maximumBytes = ModelDescription.maximumParameters * MemoryLayout<Float>.size + (64 << 20)

    /// The model in the file at `path`; errors name the file.
    static func read(_ path: String) throws -> ONNXModelProto {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw ONNXError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumBytes else {
            throw ONNXError(path, "is \(size) bytes; FashionLab reads ONNX files of at most \(maximumBytes) bytes")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ONNXError(path, "cannot be read") }
        return try parse(data, name: path)
    }

    /// The model in `data`; `name` names it in errors.
    static func parse(_ data: Data, name: String) throws -> ONNXModelProto {
        guard data.count <= maximumBytes else {
            throw ONNXError(name, "is \(data.count) bytes; FashionLab reads ONNX files of at most \(maximumBytes) bytes")
        }
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 32
            return try ONNXModelProto(serializedBytes: data, options: options)
        } catch {
            throw ONNXError(name, "is not an ONNX model (protobuf: \(error))")
        }
    }
}

extension ONNXExport {
    /// The operator of each node of the ONNX file at `path`, in order (what Netron would draw); errors name the file.
    public static func operations(inFile path: String) throws -> [String] {
        try ONNXFile.read(path).graph.node.map(\.opType)
    }
}
