import ArgumentParser
import FashionInterop
import Foundation

/// `fashionlab export RUN_OR_MODEL --onnx [FILE]`: the model in another tool's format.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model as ONNX, for onnxruntime, browsers, phones and Netron.",
        discussion: """
            The ONNX model takes raw pixel values 0…255 as float32 (the run's scaling and normalisation are its first \
            nodes), shaped [batch, 784] for an MLP or [batch, 1, 28, 28] for a CNN, and gives one logit per class; the \
            class names are in its metadata (class_names).
            """)

    @Argument(help: ArgumentHelp("A run directory, a checkpoint or a model file (.safetensors).", valueName: "RUN_OR_MODEL"))
    var model: String

    @Flag(name: .customLong("onnx"), help: "Write ONNX (the only format so far).")
    var onnx = false

    @Argument(help: ArgumentHelp(
        "Where to write (default: model.onnx in a run directory, or the model file's name with .onnx).", valueName: "FILE"))
    var file: String?

    func validate() throws {
        guard onnx else { throw ValidationError("name the format: --onnx [FILE]") }
    }

    func run() throws {
        let summary = try ONNXExport.export(from: model, to: file)
        let shape = "[batch, " + summary.inputShape.map(String.init).joined(separator: ", ") + "]"
        print("Wrote \(summary.path): ONNX opset \(ONNXExport.opsetVersion), \(summary.nodes) nodes, input \(ONNXExport.inputName) \(shape) raw pixels 0…255, output \(ONNXExport.outputName) [batch, \(summary.classes)] (\(summary.bytes) bytes)")
    }
}
