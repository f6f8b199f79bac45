/// Saving and loading a model's parameters by their PyTorch `state_dict` names.
extension Sequential {
    /// The parameters as a safetensors file, with `metadata` in `__metadata__`.
    public func stateDict(metadata: [String: String] = [:]) -> Safetensors {
        var file = Safetensors()
        for parameter in parameters { file.set(parameter.name, parameter.value) }
        for buffer in buffers {
            if buffer.isInteger {
                let value = Int64(buffer.value.data[0])
                file.set(buffer.name, Safetensors.Entry(dtype: "I64", shape: [], bytes: withUnsafeBytes(of: value.littleEndian, Array.init)))
            } else {
                file.set(buffer.name, buffer.value)
            }
        }
        file.metadata = metadata
        return file
    }

    /// Copies the parameters from `file`; every parameter must be present with the same shape
    /// (like `load_state_dict(strict=True)`), and no other tensors may be there.
    public func load(_ file: Safetensors, name: String) throws {
        let expected = Set(parameters.map(\.name) + buffers.map(\.name))
        if let unexpected = file.names.first(where: { !expected.contains($0) }) {
            throw SafetensorsError(name, "unexpected tensor '\(unexpected)' for this model")
        }
        for parameter in parameters {
            guard let entry = file[parameter.name] else {
                throw SafetensorsError(name, "missing tensor '\(parameter.name)'")
            }
            guard entry.shape == parameter.value.shape else {
                throw SafetensorsError(name, "tensor '\(parameter.name)' has shape \(entry.shape), the model expects \(parameter.value.shape)")
            }
            guard entry.dtype == "F32" || entry.dtype == "F64" else {
                throw SafetensorsError(name, "tensor '\(parameter.name)' has dtype \(entry.dtype), expected F32")
            }
            parameter.value.copy(from: entry.floats())
        }
        for buffer in buffers {
            guard let entry = file[buffer.name] else { throw SafetensorsError(name, "missing tensor '\(buffer.name)'") }
            guard entry.shape.reduce(1, *) == buffer.value.count else {
                throw SafetensorsError(name, "tensor '\(buffer.name)' has shape \(entry.shape), the model expects \(buffer.value.shape)")
            }
            let allowed = buffer.isInteger ? ["I64", "I32"] : ["F32", "F64"]
            guard allowed.contains(entry.dtype) else {
                throw SafetensorsError(name, "tensor '\(buffer.name)' has dtype \(entry.dtype), expected \(allowed.joined(separator: " or "))")
            }
            let values = buffer.isInteger ? entry.integers().map(Float.init) : entry.floats()
            // A count must be a whole number a Float holds exactly; statistics must be finite (a variance not negative).
            guard values.allSatisfy({ $0.isFinite && (!buffer.isInteger || ($0 >= 0 && $0 <= 16_777_216)) }),
                  !buffer.name.hasSuffix("running_var") || values.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError(name, "tensor '\(buffer.name)' holds values a \(buffer.isInteger ? "count" : "statistic") cannot have (\(values.first { !$0.isFinite || $0 < 0 } ?? values[0]))")
            }
            buffer.value.copy(from: values)
        }
    }
}
