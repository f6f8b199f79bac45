import Foundation
import FashionCore

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}`),
/// then the tensors' little-endian row-major bytes.
///
/// The reader checks every length and offset before using it; malformed files are refused with
/// an error that names the file and the fault.
public struct Safetensors: Sendable {
    /// One stored tensor: its dtype (`F32`, `F64`, `I32`, `I64`, …), shape and raw bytes.
    public struct Entry: Sendable, Equatable {
        public let dtype: String
        public let shape: [Int]
        public let bytes: [UInt8]

        public init(dtype: String, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// A float32 entry.
        public init(shape: [Int], floats: [Float]) {
            precondition(floats.count == shape.reduce(1, *), "\(floats.count) values for shape \(shape)")
            self.init(dtype: "F32", shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
        }

        /// The values as `Float`s (F32 as is, F64 rounded, integers converted).
        public func floats() -> [Float] {
            switch dtype {
            case "F32": return load(Float.self)
            case "F64": return load(Double.self).map { Float($0) }
            case "I32": return load(Int32.self).map { Float($0) }
            case "I64": return load(Int64.self).map { Float($0) }
            default: return []
            }
        }

        /// The values as integers (I32/I64/U8 as is, floats truncated; a float no `Int` holds, NaN or infinite,
        /// becomes 0 rather than a trap: callers check the dtype first).
        public func integers() -> [Int] {
            switch dtype {
            case "I32": return load(Int32.self).map { Int($0) }
            case "I64": return load(Int64.self).map { Int($0) }
            case "U8": return bytes.map { Int($0) }
            default: return floats().map { $0.isFinite && abs($0) < 9e15 ? Int($0) : 0 }
            }
        }

        private func load<T>(_ type: T.Type) -> [T] {
            bytes.withUnsafeBytes { raw in
                (0..<(raw.count / MemoryLayout<T>.size)).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
            }
        }
    }

    /// Element sizes of the dtypes the format defines.
    static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]
    /// Headers larger than this are refused (the format's own reference reader uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    /// Tensors in file order.
    public private(set) var names: [String] = []
    public private(set) var entries: [String: Entry] = [:]
    /// The `__metadata__` map.
    public var metadata: [String: String] = [:]

    public init() {}

    public subscript(name: String) -> Entry? { entries[name] }

    /// Adds or replaces a tensor.
    public mutating func set(_ name: String, _ entry: Entry) {
        if entries[name] == nil { names.append(name) }
        entries[name] = entry
    }

    /// Adds a float32 tensor.
    public mutating func set(_ name: String, _ tensor: Tensor) {
        set(name, Entry(shape: tensor.shape, floats: tensor.toArray()))
    }

    // MARK: Writing

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        for name in names {
            let entry = entries[name]!
            header[name] = ["dtype": entry.dtype, "shape": entry.shape, "data_offsets": [offset, offset + entry.bytes.count]] as [String: Any]
            offset += entry.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var out = withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init)
        out += json
        for name in names { out += entries[name]!.bytes }
        return out
    }

    /// Writes the file atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(encoded(), to: path)
    }

    // MARK: Reading

    /// Reads and validates a safetensors file.
    public static func read(_ path: String) throws -> Safetensors {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SafetensorsError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        return try parse([UInt8](data), name: path)
    }

    /// Parses and validates safetensors bytes; `name` is used in error messages.
    public static func parse(_ bytes: [UInt8], name: String) throws -> Safetensors {
        guard bytes.count >= 8 else { throw SafetensorsError(name, "too short for a safetensors file (\(bytes.count) bytes)") }
        let headerLength = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        // Every safetensors header is a JSON object: a file without one there is some other kind of file.
        guard bytes.count > 8, bytes[8] == UInt8(ascii: "{") else {
            throw SafetensorsError(name, "not a safetensors file (after its 8-byte length a safetensors header opens with '{'\(Self.kindHint(bytes)))")
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafetensorsError(name, "header length \(headerLength) is beyond the end of the \(bytes.count)-byte file")
        }
        guard headerLength <= UInt64(maxHeaderBytes) else {
            throw SafetensorsError(name, "header length \(headerLength) exceeds the \(maxHeaderBytes)-byte limit")
        }
        let headerEnd = 8 + Int(headerLength)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            throw SafetensorsError(name, "header is not valid JSON")
        }
        guard let header = object as? [String: Any] else { throw SafetensorsError(name, "header is not a JSON object") }
        if let key = JSONKeys.firstRepeated(in: bytes[8..<headerEnd]) {
            throw SafetensorsError(name, "header names '\(key)' twice (a reader would have to guess which one is meant)")
        }

        var file = Safetensors()
        let dataSize = bytes.count - headerEnd
        var ranges: [(range: Range<Int>, name: String)] = []
        for (key, value) in header {
            if key == "__metadata__" {
                guard let map = value as? [String: Any] else { throw SafetensorsError(name, "__metadata__ is not an object") }
                for (metaKey, metaValue) in map {
                    guard let text = metaValue as? String else {
                        throw SafetensorsError(name, "__metadata__ value for '\(metaKey)' is not a string")
                    }
                    file.metadata[metaKey] = text
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw SafetensorsError(name, "tensor '\(key)': entry is not an object") }
            guard let dtype = info["dtype"] as? String else { throw SafetensorsError(name, "tensor '\(key)': missing dtype") }
            guard let elementSize = dtypeSizes[dtype] else { throw SafetensorsError(name, "tensor '\(key)': unknown dtype '\(dtype)'") }
            guard let shapeValues = info["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError(name, "tensor '\(key)': shape is not a list of non-negative integers")
            }
            guard let offsetValues = info["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
                throw SafetensorsError(name, "tensor '\(key)': data_offsets is not a pair of integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw SafetensorsError(name, "tensor '\(key)': data_offsets [\(begin), \(end)] are outside the \(dataSize)-byte data section")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw SafetensorsError(name, "tensor '\(key)': shape \(shape) overflows") }
                elements = product
            }
            let (byteCount, overflow) = elements.multipliedReportingOverflow(by: elementSize)
            guard !overflow, byteCount == end - begin else {
                throw SafetensorsError(name, "tensor '\(key)': shape \(shape) of \(dtype) needs \(elements) × \(elementSize) bytes, data_offsets give \(end - begin)")
            }
            ranges.append((begin..<end, key))
            file.entries[key] = Entry(dtype: dtype, shape: shape, bytes: Array(bytes[(headerEnd + begin)..<(headerEnd + end)]))
        }
        ranges.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
            throw SafetensorsError(name, "tensors '\(previous.name)' and '\(next.name)' overlap in the data section")
        }
        file.names = ranges.map(\.name)
        return file
    }

    /// ", it looks like a PNG picture" and the like, for the kinds of file people give by mistake.
    static func kindHint(_ bytes: [UInt8]) -> String {
        let kinds: [([UInt8], String)] = [([0x89, 0x50, 0x4E, 0x47], "a PNG picture"), ([0xFF, 0xD8, 0xFF], "a JPEG picture"),
                                          ([0x1F, 0x8B], "a gzip file"), ([0x50, 0x4B, 0x03, 0x04], "a zip archive (PyTorch's .pt/.pth?)"),
                                          ([0x80], "a Python pickle (PyTorch's old .pt?)"), ([UInt8(ascii: "{")], "a JSON file")]
        guard let kind = kinds.first(where: { bytes.starts(with: $0.0) }) else { return "" }
        return "; it looks like \(kind.1)"
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var result = [Int]()
        for value in values {
            guard let number = value as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), double >= -9e15, double <= 9e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}

/// A safetensors file that cannot be read, naming the file and what was wrong.
public struct SafetensorsError: Error, CustomStringConvertible {
    public let file: String
    public let message: String
    public init(_ file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}
