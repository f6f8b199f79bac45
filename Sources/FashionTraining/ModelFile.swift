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

    /// The model in a safetensors file already read (`path` names it in errors): a FashionLab checkpoint or model
    /// file, or an MLP under PyTorch's names, as ``load(_:)`` describes.
    public static func load(_ file: Safetensors, path: String) throws -> (model: Sequential, config: TrainingConfig) {
        var config = TrainingConfig()
        if let text = file.metadata["fashionlab_config"] {
            config = try settings(TrainingConfig.self, in: text, key: "fashionlab_config", path: path)
        } else if let text = file.metadata["history"] {
            config = try settings(TrainingHistory.self, in: text, key: "history", path: path).config
        } else if let text = file.metadata[ModelDescription.metadataKey] {
            config.model = .custom
            config.architecture = try ModelDescription.parse(Data(text.utf8), name: "\(path): \(ModelDescription.metadataKey)")
        } else {
            config.hidden = try hiddenSizes(of: file, path: path)
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
                throw SafetensorsError(path, "tensor '\(index).weight' has shape \(weight.shape); expected [out, \(inputs)] for an MLP on 28×28 images")
            }
            inputs = weight.shape[0]
            sizes.append(inputs)
            index += 2
        }
        guard let classes = sizes.popLast(), classes == 10 else {
            throw SafetensorsError(path, "no MLP found: expected tensors 0.weight, 2.weight, … ending in 10 outputs")
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
