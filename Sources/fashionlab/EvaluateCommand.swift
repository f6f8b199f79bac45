import ArgumentParser
import FashionCharts
import FashionData
import FashionInterop
import FashionTraining
import Foundation

/// `fashionlab evaluate MODEL`: how a trained model does on the test set, class by class.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test accuracy, per-class accuracy, confusion matrix, most-confused classes and the misclassified images of a model.",
        discussion: "MODEL is a run directory, a FashionLab model.safetensors or checkpoint, a PyTorch MLP state_dict saved with safetensors, or an ONNX file (docs/interop.md).")

    @Argument(help: ArgumentHelp("A run directory, a .safetensors file or an .onnx file.", valueName: "MODEL"))
    var model: String

    @Option(help: ArgumentHelp(
        "Where to write confusion.svg, confusion.txt, misclassified.png and evaluation.json (default: the run directory, or the directory of the .safetensors file).",
        valueName: "DIR"))
    var out: String?

    @Option(name: .customLong("tta"), help: ArgumentHelp(
        "Test-time augmentation: none, or flip (average the class probabilities of each image and its mirror image; for models trained with random flips).",
        valueName: "HOW"))
    var testTimeAugmentation: TestTimeAugmentation = .none

    @Flag(help: "Print the results as one JSON object.")
    var json = false

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    /// `--out`, or beside the model: the run directory itself, or the directory holding the .safetensors file.
    var outputDirectory: String {
        if let out { return out }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue { return model }
        let parent = (model as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    func run() throws {
        // The model first: an error in it has nothing to do with the device, so no device line comes before it.
        let (network, config) = try ModelFormats.load(model)
        let (backend, _) = try deviceOptions.select(quiet: json)
        let test = try dataOptions.load(quiet: json).test
        let report = try EvaluationReport.measure(network, named: model, on: test, encoding: config.encoding,
                                                  batchSize: config.effectiveEvaluationBatchSize, backend: backend,
                                                  testTimeAugmentation: testTimeAugmentation)
        let out = outputDirectory
        try RunArtifacts.writeEvaluation(report, dataset: test, to: out)
        if json { return try Terminal.printJSON(report) }

        let augmentation = testTimeAugmentation == .flip ? " (each image and its mirror image)" : ""
        let loss = report.loss.isNaN ? "NaN" : String(format: "%.4f", report.loss)
        let trained = ModelFormats.recordsTraining(model) ? config.summary : "a model without FashionLab's training settings (its network and input encoding only)"
        print(String(format: "Test accuracy %.2f%% (%d of %d)%@, loss %@ — %@", report.accuracy * 100,
                     report.correct, report.count, augmentation, loss, trained))
        if report.unpredicted > 0 {
            print("\(report.unpredicted) of \(report.count) images got outputs that are not finite (NaN or infinity): the model predicts no class for them, and they count as wrong")
        }
        print("Per class:")
        for (index, name) in FashionMNIST.classNames.enumerated() {
            print("  \(index) \(name.padding(toLength: 12, withPad: " ", startingAt: 0)) " + String(format: "%6.2f%%", report.perClassAccuracy[name]! * 100))
        }
        print("Most confused (true → predicted):")
        for pair in report.mostConfused { print("  \(pair.trueClass) → \(pair.predicted): \(pair.count)") }
        print("Confusion matrix (rows true, columns predicted):")
        print(report.confusionTable, terminator: "")
        print("Wrote confusion.svg, confusion.txt, misclassified.png (the \(report.misclassifiedShown.count) most confident mistakes, each labelled with its class, the class predicted and its probability) and evaluation.json in \(out)")
    }
}

extension TestTimeAugmentation: ExpressibleByArgument {}
