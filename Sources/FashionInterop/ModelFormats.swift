import FashionEngine
import FashionTraining
import Foundation

/// Loading a model from any file FashionLab reads, for `evaluate`, `predict` and `serve`: an ONNX file
/// (`.onnx`, ``ONNXImport``), or whatever `ModelFile` reads (a run directory, a FashionLab model
/// or checkpoint, a PyTorch MLP state_dict in safetensors).
public enum ModelFormats {
    /// Whether `path` names an ONNX file (by its extension).
    public static func isONNX(_ path: String) -> Bool {
        (path as NSString).pathExtension.lowercased() == "onnx"
    }

    /// The model at `path` and the settings it is used with; errors name the file and what is wrong with it.
    public static func load(_ path: String) throws -> (model: Sequential, config: TrainingConfig) {
        var isDirectory: ObjCBool = false
        if isONNX(path), FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return try ONNXImport.load(path)
        }
        return try ModelFile.load(path)
    }

    /// Whether the model at `path` records how it was trained (`ModelFile.recordsTraining`); an ONNX file never does.
    public static func recordsTraining(_ path: String) -> Bool {
        !isONNX(path) && ModelFile.recordsTraining(path)
    }

    /// The model in `bytes` already read from the file `name` (`serve` reads through its folder): ONNX when `name`
    /// ends in `.onnx`, else a safetensors model or checkpoint as `ModelFile` reads it.
    public static func load(bytes: [UInt8], name: String) throws -> (model: Sequential, config: TrainingConfig) {
        if isONNX(name) { return try ONNXImport.load(Data(bytes), name: name) }
        return try ModelFile.load(Safetensors.parse(bytes, name: name), path: name)
    }
}
