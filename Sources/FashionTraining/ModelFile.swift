import Foundation
import FashionCore
import FashionEngine

/// Loading a trained model for evaluation and prediction: from a run directory (`metrics.json` and
/// `model.safetensors`), a FashionLab checkpoint file (the network from its configuration, or from its model
/// description, `fashionlab_model`, when it has no configuration), or any safetensors file holding an MLP under
/// PyTorch's `nn.Sequential` names (the architecture is read from the tensor shapes).
public enum ModelFile {
    /// The model at `path` (a run directory or a safetensors file) and the settings it was trained with; errors name
    /// the file and what is wrong with it.
    public static func load(_ path: String) throws -> (model: Sequential, config: TrainingConfig) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RunDirectoryError(path: path, message: "no such file or directory")
        }
        if isDirectory.boolValue {
            let history = try RunDirectory.loadHistory(from: path)
            return (try RunDirectory.loadModel(from: path, config: history.config), history.config)
        }
        return try load(Safetensors.read(path), path: path)
    }

    /// Whether the model at `path` records how it was trained: a run directory, or a FashionLab model or checkpoint
    /// file. A PyTorch state_dict or a file with only a model description does not: the settings ``load(_:)`` gives
    /// for it are defaults (its network and input encoding aside), not a history to report.
    public static func recordsTraining(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
        if isDirectory.boolValue { return true }
        guard let metadata = (try? Safetensors.read(path))?.metadata else { return false }
        return metadata["fashionlab_config"] != nil || metadata["history"] != nil
    }

    /// The model in a safetensors file already read (`path` names it in errors): a FashionLab checkpoint or model
    /// file, or an MLP under PyTorch's names, as ``load(_:)`` describes.
    public static func load(_ file: Safetensors, path: String) throws -> (model: Sequential, config: TrainingConfig) {
        var config = TrainingConfig()
        if let text = file.metadata["fashionlab_config"] {
            config = try settings(TrainingConfig.self, in: text, key: "fashionlab_config", path: path)
        } else if let text = file.metadata["history"] {
            config = try settings(TrainingHistory.self, in: text, key: "history", path: path).config
        } else {
            // A model from elsewhere (scripts/save_for_fashionlab.py writes these): its network, and how it encodes pixels.
            if let text = file.metadata[ModelDescription.metadataKey] {
                config.model = .custom
                config.architecture = try ModelDescription.parse(Data(text.utf8), name: "\(path): \(ModelDescription.metadataKey)")
            } else {
                config.hidden = try hiddenSizes(of: file, path: path)
            }
            if let text = file.metadata[encodingKey] {
                let encoding = try settings(PixelEncoding.self, in: text, key: encodingKey, path: path)
                (config.scale, config.normalization) = (encoding.scale, encoding.normalization)
            }
        }
        do {
            try config.validate()
        } catch let problem as SettingProblem {
            throw RunDirectoryError(path: path, message: "the settings in its metadata: \(problem)")
        }
        let model = try config.buildModel()
        var weights = Safetensors()
        for name in file.names where !name.hasPrefix("optimizer.") && !name.hasPrefix("batches.") { weights.set(name, file[name]!) }
        try config.load(weights, into: model, from: path)
        return (model, config)
    }

    /// The metadata key of a model's input encoding (`PixelEncoding` as JSON) in a file that does not carry
    /// FashionLab's training settings (which hold it): written by `scripts/save_for_fashionlab.py` and by ONNX export.
    public static let encodingKey = "fashionlab_encoding"

    /// The JSON under metadata `key`, decoded; a file that carries the key but not readable settings is refused
    /// rather than read another way.
    static func settings<T: Decodable>(_ type: T.Type, in text: String, key: String, path: String) throws -> T {
        let decoder = NonFiniteJSON.decoder()
        do {
            return try decoder.decodeRefusingRepeatedKeys(type, from: Data(text.utf8))
        } catch {
            throw RunDirectoryError(path: path, message: "its metadata '\(key)' cannot be read as FashionLab settings (saved by another version?): \(error)")
        }
    }

    /// Hidden sizes of an MLP stored as `0.weight`, `2.weight`, … ([out, in], input 784, 10 classes).
    static func hiddenSizes(of file: Safetensors, path: String) throws -> [Int] {
        var sizes: [Int] = []
        var index = 0, inputs = 784
        while let weight = file["\(index).weight"] {
            guard weight.shape.count == 2, weight.shape[1] == inputs else {
                throw SafetensorsError(path, "tensor '\(index).weight' has shape \(weight.shape); expected [out, \(inputs)] for an MLP on 28×28 images; for another network, put its description in the file's metadata as '\(ModelDescription.metadataKey)' (scripts/save_for_fashionlab.py; docs/interop.md)")
            }
            inputs = weight.shape[0]
            sizes.append(inputs)
            index += 2
        }
        guard let classes = sizes.popLast(), classes == 10 else {
            throw SafetensorsError(path, "no MLP found: expected tensors 0.weight, 2.weight, … ending in 10 outputs; for another network, put its description in the file's metadata as '\(ModelDescription.metadataKey)' (scripts/save_for_fashionlab.py writes it from an nn.Sequential, with the input encoding as '\(encodingKey)'; docs/interop.md)")
        }
        return sizes
    }
}

extension Sequential {
    /// Class probabilities (softmax of the logits) for `count` gray 28×28 images.
    public func probabilities(images: [UInt8], count: Int, encoding: PixelEncoding) -> [[Float]] {
        let inputs = Tensor(shape: [count] + inputShape)
        let table = encoding.table
        for i in 0..<images.count { inputs.data[i] = table[Int(images[i])] }
        let logits = forward(inputs, training: false)
        return Self.softmax(Array(logits.buffer), classes: logits.count / count)
    }

    /// The softmax of each row of `classes` logits.
    public static func softmax(_ logits: [Float], classes: Int) -> [[Float]] {
        stride(from: 0, to: logits.count, by: classes).map { start in
            let z = logits[start..<(start + classes)]
            let top = z.max() ?? 0
            let e = z.map { expf($0 - top) }
            let sum = e.reduce(0, +)
            return e.map { $0 / sum }
        }
    }
}
