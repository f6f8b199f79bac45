import ArgumentParser
import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionImaging
import FashionTraining
import Foundation

/// `fashionlab evaluate MODEL`: how a trained model does on the test set, class by class.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test accuracy, per-class accuracy, confusion matrix, most-confused classes and the misclassified images of a model.",
        discussion: "MODEL is a run directory, a FashionLab model.safetensors or checkpoint, or a PyTorch MLP state_dict saved with safetensors.")

    @Argument(help: ArgumentHelp("A run directory or a .safetensors file.", valueName: "MODEL"))
    var model: String

    @Option(help: ArgumentHelp("Where to write confusion.svg, confusion.txt, misclassified.png and evaluation.json.", valueName: "DIR"))
    var out = "evaluation"

    @Option(name: .customLong("tta"), help: ArgumentHelp(
        "Test-time augmentation: none, or flip (average the class probabilities of each image and its mirror image; for models trained with random flips).",
        valueName: "HOW"))
    var testTimeAugmentation: TestTimeAugmentation = .none

    @Flag(help: "Print the results as one JSON object.")
    var json = false

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    struct Report: Encodable {
        let model: String
        let testTimeAugmentation: String
        let accuracy: Double
        let loss: Double
        let perClassAccuracy: [String: Double]
        let confusion: [[Int]]
        let mostConfused: [Pair]
        let misclassifiedShown: [Mistake]
    }

    struct Pair: Encodable { let trueClass: String; let predicted: String; let count: Int }
    struct Mistake: Encodable { let index: Int; let trueClass: Int; let predicted: Int; let confidence: Float }

    func run() throws {
        let (backend, _) = try deviceOptions.select(quiet: json)
        let (network, config) = try ModelFile.load(model)
        let data = try dataOptions.load(quiet: json)
        let test = data.test
        // One pass over the test set (two with --tta flip): the logits give the loss, the accuracy and the class probabilities.
        let logits = try network.logits(on: test, encoding: config.encoding, batchSize: config.effectiveEvaluationBatchSize, backend: backend,
                                        testTimeAugmentation: testTimeAugmentation)
        let outcome = SoftmaxCrossEntropy()(Tensor(shape: [test.count, 10], values: logits), LabelBuffer(test.labels.map(Int32.init)),
                                            computeGradient: false)
        let result = EvaluationResult(loss: outcome.lossSum / Double(test.count), accuracy: Double(outcome.correct) / Double(test.count))
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        var mistakes: [Mistake] = []
        for (index, p) in Sequential.softmax(logits, classes: 10).enumerated() {
            let predicted = p.indices.max { p[$0] < p[$1] }!
            let truth = Int(test.labels[index])
            confusion[truth][predicted] += 1
            if predicted != truth { mistakes.append(Mistake(index: index, trueClass: truth, predicted: predicted, confidence: p[predicted])) }
        }
        let names = FashionMNIST.classNames
        let perClass = (0..<10).map { Double(confusion[$0][$0]) / Double(max(1, confusion[$0].reduce(0, +))) }
        let pairs = (0..<10).flatMap { t in (0..<10).filter { $0 != t }.map { Pair(trueClass: names[t], predicted: names[$0], count: confusion[t][$0]) } }
            .sorted { $0.count > $1.count }.prefix(5)
        let shown = Array(mistakes.sorted { $0.confidence > $1.confidence }.prefix(40))
        let grid = LabelledGrid.render(shown.map { test.image($0.index) }, labels: shown.map { "\($0.trueClass)>\($0.predicted)" })

        try AtomicFile.write(text: RunCharts.confusion(confusion, title: "Confusion matrix on the test set"), to: out + "/confusion.svg")
        try AtomicFile.write(text: Self.confusionText(confusion), to: out + "/confusion.txt")
        try AtomicFile.write(PNG.encode(grid), to: out + "/misclassified.png")
        let report = Report(model: model, testTimeAugmentation: testTimeAugmentation.rawValue, accuracy: result.accuracy, loss: result.loss,
                            perClassAccuracy: Dictionary(uniqueKeysWithValues: zip(names, perClass)), confusion: confusion,
                            mostConfused: Array(pairs), misclassifiedShown: shown)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(report)), to: out + "/evaluation.json")
        if json { return try Terminal.printJSON(report) }

        let augmentation = testTimeAugmentation == .flip ? " (each image and its mirror image)" : ""
        print(String(format: "Test accuracy %.2f%% (%d of %d)%@, loss %.4f — %@", result.accuracy * 100,
                     (0..<10).reduce(0) { $0 + confusion[$1][$1] }, test.count, augmentation, result.loss, config.summary))
        print("Per class:")
        for (index, name) in names.enumerated() {
            print("  \(index) \(name.padding(toLength: 12, withPad: " ", startingAt: 0)) " + String(format: "%6.2f%%", perClass[index] * 100))
        }
        print("Most confused (true → predicted):")
        for pair in pairs { print("  \(pair.trueClass) → \(pair.predicted): \(pair.count)") }
        print("Confusion matrix (rows true, columns predicted):")
        print(Self.confusionText(confusion), terminator: "")
        print("Wrote confusion.svg, confusion.txt, misclassified.png (the \(shown.count) most confident mistakes, labelled true>predicted class number) and evaluation.json in \(out)")
    }

    static func confusionText(_ counts: [[Int]]) -> String {
        let header = "      " + (0..<10).map { String(format: "%5d", $0) }.joined() + "\n"
        return header + counts.enumerated().map { row, values in
            String(format: "%5d ", row) + values.map { String(format: "%5d", $0) }.joined()
        }.joined(separator: "\n") + "\n"
    }
}

extension TestTimeAugmentation: ExpressibleByArgument {}
