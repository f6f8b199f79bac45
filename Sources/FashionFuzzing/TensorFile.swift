import Foundation
import FashionEngine

/// A safetensors file as its tensors and metadata, written by hand so that a mutation can also give two
/// tensors one name (the format's header is a JSON object; a reader must refuse a repeated key).
struct TensorFile: Sendable {
    var tensors: [(name: String, entry: Safetensors.Entry)]
    var metadata: [String: String]

    init(_ file: Safetensors) {
        tensors = file.names.map { ($0, file[$0]!) }
        metadata = file.metadata
    }

    /// The file's bytes: an 8-byte header length, the JSON header (keys in the tensors' order), the data.
    func encoded() -> [UInt8] {
        var header = "{"
        var offset = 0
        var members: [String] = []
        for (name, entry) in tensors {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            members.append("\(Self.quoted(name)):{\"dtype\":\(Self.quoted(entry.dtype)),\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}")
            offset += entry.bytes.count
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(Self.quoted($0)):\(Self.quoted(metadata[$0]!))" }
            members.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        header += members.joined(separator: ",") + "}"
        var json = Array(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init)
        out += json
        for (_, entry) in tensors { out += entry.bytes }
        return out
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Changes to what a well-formed safetensors file means: shapes, dtypes, values, names, missing, extra and
/// repeated tensors, and its metadata (the JSON settings inside it mutated by ``JSONMutation``).
enum TensorFileMutation {
    static let elementSizes = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I32": 4, "I64": 8, "U8": 1, "I8": 1, "BOOL": 1, "U64": 8]
    static let dtypes = elementSizes.keys.sorted()
    static let poison: [Float] = [.nan, .infinity, -.infinity, 3.4e38, -3.4e38, -1, 0, .leastNonzeroMagnitude, 65536]

    static func mutate(_ file: inout TensorFile, _ m: inout Mutator, metadataKeys: [String]) {
        for _ in 0...m.below(3) {
            switch m.below(10) {
            case 0, 1: reshape(&file, &m)
            case 2: retype(&file, &m)
            case 3: poisonValues(&file, &m)
            case 4 where !file.tensors.isEmpty: file.tensors.remove(at: m.below(file.tensors.count))
            case 5: addTensor(&file, &m)
            case 6 where !file.tensors.isEmpty: file.tensors[m.below(file.tensors.count)].name = plausibleName(file, &m)
            case 7 where !file.tensors.isEmpty:
                // The same name twice, with other data.
                var copy = file.tensors[m.below(file.tensors.count)]
                if !file.tensors.isEmpty { copy.entry = file.tensors[m.below(file.tensors.count)].entry }
                file.tensors.insert(copy, at: m.below(file.tensors.count + 1))
            default: mutateMetadata(&file.metadata, &m, keys: metadataKeys)
            }
        }
    }

    /// A new shape for one tensor, its bytes resized to match (the file stays well-formed).
    static func reshape(_ file: inout TensorFile, _ m: inout Mutator) {
        guard !file.tensors.isEmpty else { return }
        let index = m.below(file.tensors.count)
        let entry = file.tensors[index].entry
        var shape = entry.shape
        switch m.below(6) {
        case 0 where shape.count >= 2: shape.swapAt(0, shape.count - 1)
        case 1 where !shape.isEmpty: shape[m.below(shape.count)] += m.pick([1, -1, 2])
        case 2: shape.insert(1, at: m.below(shape.count + 1))
        case 3: shape = [shape.reduce(1, *)]
        case 4 where !shape.isEmpty: shape.remove(at: m.below(shape.count))
        default: shape = (0..<m.below(5)).map { _ in m.pick([0, 1, 2, 3, 10, 28, 784]) }
        }
        shape = shape.map { max(0, $0) }
        let size = max(1, (elementSizes[entry.dtype] ?? 4))
        let elements = shape.reduce(1, *)
        guard elements <= 1 << 20 else { return }
        var bytes = Array(entry.bytes.prefix(elements * size))
        bytes += [UInt8](repeating: 0, count: elements * size - bytes.count)
        file.tensors[index].entry = Safetensors.Entry(dtype: entry.dtype, shape: shape, bytes: bytes)
    }

    /// Another dtype for one tensor, its values converted (or its bytes reinterpreted, sized to match).
    static func retype(_ file: inout TensorFile, _ m: inout Mutator) {
        guard !file.tensors.isEmpty else { return }
        let index = m.below(file.tensors.count)
        let entry = file.tensors[index].entry
        let dtype = m.pick(dtypes)
        let values = entry.floats()
        let bytes: [UInt8]
        switch dtype {
        case "F64": bytes = values.map(Double.init).withUnsafeBytes { Array($0) }
        case "I32": bytes = values.map { Int32(clamping: $0.isFinite ? Int64(max(-1e9, min(1e9, $0))) : 0) }.withUnsafeBytes { Array($0) }
        case "I64": bytes = values.map { $0.isFinite ? Int64(max(-1e15, min(1e15, $0))) : Int64.min }.withUnsafeBytes { Array($0) }
        default:
            let size = elementSizes[dtype] ?? 1
            let count = entry.shape.reduce(1, *) * size
            bytes = Array((entry.bytes + [UInt8](repeating: 0x7F, count: max(0, count - entry.bytes.count))).prefix(count))
        }
        file.tensors[index].entry = Safetensors.Entry(dtype: dtype, shape: entry.shape, bytes: bytes)
    }

    /// NaN, infinities, huge, negative or denormal values written into a float32 tensor.
    static func poisonValues(_ file: inout TensorFile, _ m: inout Mutator) {
        guard let index = file.tensors.indices.filter({ file.tensors[$0].entry.dtype == "F32" && !file.tensors[$0].entry.bytes.isEmpty }).randomElement(using: &m.generator) else { return }
        let entry = file.tensors[index].entry
        var values = entry.floats()
        for _ in 0...m.below(4) { values[m.below(values.count)] = m.pick(poison) }
        if m.oneIn(4) { values = [Float](repeating: m.pick(poison), count: values.count) }
        file.tensors[index].entry = Safetensors.Entry(shape: entry.shape, floats: values)
    }

    static func addTensor(_ file: inout TensorFile, _ m: inout Mutator) {
        let entry = file.tensors.isEmpty || m.oneIn(3)
            ? Safetensors.Entry(dtype: "F32", shape: [0], bytes: [])
            : file.tensors[m.below(file.tensors.count)].entry
        file.tensors.insert((plausibleName(file, &m), entry), at: m.below(file.tensors.count + 1))
    }

    /// A name a loader looks for: another layer's, an optimiser slot of a real parameter, the batch order.
    static func plausibleName(_ file: TensorFile, _ m: inout Mutator) -> String {
        let existing = file.tensors.map(\.name).filter { !$0.hasPrefix("optimizer.") && !$0.hasPrefix("batches.") }
        let parameter = existing.isEmpty ? "0.weight" : m.pick(existing)
        switch m.below(6) {
        case 0: return "optimizer.\(parameter).\(m.pick(["exp_avg", "exp_avg_sq", "momentum_buffer", "other"]))"
        case 1: return "\(m.below(14)).\(m.pick(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]))"
        case 2: return "batches.order"
        case 3: return parameter
        case 4: return "optimizer." + m.pick(["", ".", "x", "0.weight"])
        default: return m.pick(["", "__metadata__", "0", "weight", "0.weight.exp_avg", "../0.weight"])
        }
    }

    /// Deletes, replaces or (when it holds JSON) mutates one metadata value, or adds a key.
    static func mutateMetadata(_ metadata: inout [String: String], _ m: inout Mutator, keys: [String]) {
        let key = m.pick(keys + metadata.keys.sorted())
        switch m.below(5) {
        case 0: metadata[key] = nil
        case 1: metadata[key] = m.pick(JSONMutation.strings + ["-1", "0", "1", "18446744073709551615", "1,2", "1,2,3,4",
                                                               "0,0,0,0", "nan", "1e400", "fashionlab-checkpoint", "pt"])
        default:
            guard let text = metadata[key] else { metadata[key] = "{}"; return }
            metadata[key] = JSONMutation.mutate(text, &m)
        }
    }
}
