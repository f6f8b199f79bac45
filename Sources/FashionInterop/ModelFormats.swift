import FashionEngine
import FashionTraining
import Foundation

/// Loading a model from any file FashionLab reads, for `evaluate`, `predict` and `serve`: an ONNX file
/// (`.onnx`, ``ONNXImport``), or whatever ``FashionTraining/ModelFile`` reads (a run directory, a FashionLab model
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
}
