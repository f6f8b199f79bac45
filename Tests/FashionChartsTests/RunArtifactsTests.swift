import Foundation
import Testing
import FashionCharts
import FashionData
import FashionEngine
import FashionTraining
import FashionImaging
import FashionTestSupport

@Suite struct RunArtifactsTests {
    let test = Dataset.bands(count: 60, seed: 3, bright: 180, dark: 20, noise: 60)
    let model = Sequential.mlp(inputs: 784, hidden: [8], classes: 10, seed: 1)

    func files(in directory: String) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }
    }

    func twoEpochs() -> TrainingHistory {
        var config = TrainingConfig()
        config.hidden = [8]
        config.epochs = 2
        var history = TrainingHistory(config: config)
        history.epochs = (1...2).map {
            EpochMetrics(epoch: $0, learningRate: 0.01, trainLoss: 1 / Double($0), trainAccuracy: 0.5, validationLoss: 1, validationAccuracy: 0.4,
                         trainSeconds: 1, evaluationSeconds: 0.1)
        }
        return history
    }

    @Test func aFinishedRunGetsItsMetricsModelChartsAndReport() throws {
        let directory = TestFiles.newPath("finished")
        try RunArtifacts.saveFinished(history: twoEpochs(), model: model, test: test, device: "CPU", to: directory)
        #expect(files(in: directory) == ["metrics.json", "metrics.csv", "model.safetensors", "curves.svg", "weights.svg", "confusion.svg", "report.html"])
        #expect(try RunDirectory.loadHistory(from: directory).epochs == twoEpochs().epochs)
        #expect(try String(contentsOfFile: directory + "/curves.svg", encoding: .utf8).contains("SGD, lr 0.01, batch 32, scaled inputs"))
    }

    @Test func anInterruptedRunGetsOnlyWhatResumingNeeds() throws {
        let directory = TestFiles.newPath("interrupted")
        var history = twoEpochs()
        history.epochs.removeLast()
        history.interrupted = true
        try RunArtifacts.saveFinished(history: history, model: model, test: test, to: directory)
        #expect(files(in: directory) == ["metrics.json", "metrics.csv", "model.safetensors"])
    }

    @Test func anEvaluationWritesItsFourFiles() throws {
        let directory = TestFiles.newPath("evaluation")
        let report = try EvaluationReport.measure(model, named: "tiny", on: test, encoding: PixelEncoding(scale: true))
        try RunArtifacts.writeEvaluation(report, dataset: test, to: directory)
        #expect(files(in: directory) == ["confusion.svg", "confusion.txt", "misclassified.png", "evaluation.json"])
        #expect(try String(contentsOfFile: directory + "/confusion.txt", encoding: .utf8) == report.confusionTable)
        let saved = try JSONDecoder().decode(EvaluationReport.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/evaluation.json")))
        #expect(saved == report)
        let png = try Data(contentsOf: URL(fileURLWithPath: directory + "/misclassified.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    @Test func everyMistakeIsLabelledWithClassNamesAndAProbabilityThatFitItsTile() {
        let names = FashionMNIST.classNames
        let mistake = EvaluationReport.Mistake(index: 0, trueClass: 6, predicted: 0, confidence: 0.966)
        #expect(RunArtifacts.mistakeLabel(mistake) == "is Shirt\nas T-shirt/top\n97% sure")
        for trueClass in names.indices {
            for predicted in names.indices where predicted != trueClass {
                let label = RunArtifacts.mistakeLabel(.init(index: 0, trueClass: trueClass, predicted: predicted, confidence: 1))
                for line in label.split(separator: "\n").map(String.init) {
                    #expect(PixelFont.canDraw(line), "\(line) has a character the pixel font lacks")
                    #expect(PixelFont.width(line, scale: 1) <= 28 * 4, "\(line) is wider than a tile")
                }
            }
        }
    }

    @Test func aLabelOfTwoLinesGetsABandOfTwoLines() {
        let tile = ArraySlice([UInt8](repeating: 255, count: 28 * 28))
        let one = LabelledGrid.render([tile], labels: ["Coat"], scale: 4)
        let two = LabelledGrid.render([tile], labels: ["Coat\nas Shirt 51%"], scale: 4)
        #expect(two.height == one.height + PixelFont.height(scale: 1) + 3)
        // Ink on both lines: below the tile, the rows of the first line and of the second each hold dark pixels.
        func inked(rows: Range<Int>) -> Bool {
            rows.contains { y in (0..<two.width).contains { two.pixels[y * two.width + $0] < 128 } }
        }
        let top = 2 + 28 * 4 + 3
        #expect(inked(rows: top..<(top + 7)))
        #expect(inked(rows: (top + 10)..<(top + 17)))
    }
}
