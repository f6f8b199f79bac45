import Foundation
import Testing
import FashionCharts
import FashionData
import FashionEngine
import FashionTraining
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
}
