import Foundation
import Testing
import FashionData
import FashionEngine
import FashionTraining

@Suite struct EvaluationReportTests {
    /// A hand-made confusion matrix: per-class accuracy is each row's diagonal share, the most-confused pairs are the
    /// largest off-diagonal cells (ties in row order), the mistakes shown are the most confident ones.
    @Test func perClassAccuracyAndMostConfusedPairsFromAConfusionMatrix() throws {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for c in 0..<10 { confusion[c][c] = 10 }
        confusion[6][0] = 7     // Shirt → T-shirt/top, the largest
        confusion[0][6] = 4     // T-shirt/top → Shirt
        confusion[4][2] = 4     // Coat → Pullover: ties with the pair above, comes after it (row order)
        confusion[9][7] = 3     // Ankle boot → Sneaker
        confusion[2][4] = 2
        confusion[5][7] = 1     // sixth largest: left out
        confusion[8] = [Int](repeating: 0, count: 10)   // no Bags at all: accuracy 0, not NaN
        let mistakes = (0..<50).map { EvaluationReport.Mistake(index: $0, trueClass: 6, predicted: 0, confidence: Float($0) / 50) }
        let report = EvaluationReport(model: "hand-made", accuracy: 0.5, loss: 1.25, confusion: confusion, mistakes: mistakes)

        #expect(report.perClassAccuracy.count == 10)
        #expect(report.perClassAccuracy["Shirt"] == 10.0 / 17)
        #expect(report.perClassAccuracy["T-shirt/top"] == 10.0 / 14)
        #expect(report.perClassAccuracy["Trouser"] == 1)
        #expect(report.perClassAccuracy["Bag"] == 0)
        #expect(report.mostConfused == [
            .init(trueClass: "Shirt", predicted: "T-shirt/top", count: 7),
            .init(trueClass: "T-shirt/top", predicted: "Shirt", count: 4),
            .init(trueClass: "Coat", predicted: "Pullover", count: 4),
            .init(trueClass: "Ankle boot", predicted: "Sneaker", count: 3),
            .init(trueClass: "Pullover", predicted: "Coat", count: 2),
        ])
        #expect(report.misclassifiedShown.count == EvaluationReport.mistakesShown)
        #expect(report.misclassifiedShown.first?.index == 49 && report.misclassifiedShown.last?.index == 10)
        #expect(report.correct == 90 && report.count == 90 + 7 + 4 + 4 + 3 + 2 + 1)
        #expect(report.accuracy == 0.5 && report.loss == 1.25 && report.testTimeAugmentation == "none")
        let table = report.confusionTable.split(separator: "\n")
        #expect(table.count == 11)
        #expect(table[0] == "      " + (0..<10).map { String(format: "%5d", $0) }.joined())
        #expect(table[7] == "    6     7    0    0    0    0    0   10    0    0    0")

        // evaluation.json's keys, as before the report moved into the library.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as! [String: Any]
        #expect(Set(json.keys) == ["model", "testTimeAugmentation", "accuracy", "loss", "perClassAccuracy", "confusion",
                                   "mostConfused", "misclassifiedShown"])
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: JSONEncoder().encode(report)) == report)
    }

    /// On a tiny model and dataset the report agrees with the model's own evaluation and confusion matrix.
    @Test func measuredOnATinyModelAgreesWithTheModelsOwnEvaluation() throws {
        let test = Dataset.bands(count: 120, seed: 4, bright: 180, dark: 20, noise: 60)
        let model = Sequential.mlp(inputs: 784, hidden: [8], classes: 10, seed: 2)
        let encoding = PixelEncoding(scale: true)
        let report = try EvaluationReport.measure(model, named: "tiny", on: test, encoding: encoding, batchSize: 50)
        let expected = model.evaluate(on: test, encoding: encoding, batchSize: 50)
        #expect(report.model == "tiny" && report.count == test.count)
        #expect(abs(report.accuracy - expected.accuracy) < 1e-12)
        #expect(abs(report.loss - expected.loss) < 1e-6 * max(1, expected.loss))
        #expect(report.confusion == model.confusionMatrix(on: test, encoding: encoding, batchSize: 50))
        #expect(Double(report.correct) / Double(test.count) == report.accuracy)
        #expect(report.misclassifiedShown.count == min(EvaluationReport.mistakesShown, test.count - report.correct))
        for mistake in report.misclassifiedShown {
            #expect(Int(test.labels[mistake.index]) == mistake.trueClass && mistake.predicted != mistake.trueClass)
        }
        #expect(zip(report.misclassifiedShown, report.misclassifiedShown.dropFirst()).allSatisfy { $0.confidence >= $1.confidence })
        let flipped = try EvaluationReport.measure(model, named: "tiny", on: test, encoding: encoding, testTimeAugmentation: .flip)
        #expect(flipped.testTimeAugmentation == "flip" && flipped.count == test.count)
    }

    @Test func preparedMeasuresNormalisationAndRefusesABatchLargerThanTheTrainingImages() throws {
        let train = Dataset.bands(count: 64, seed: 1)
        var config = TrainingConfig()
        config.batchSize = 32
        #expect(try config.prepared(for: train, normalize: false).normalization == nil)
        let normalised = try config.prepared(for: train, normalize: true)
        #expect(normalised.normalization == .measured(on: train, scale: true))
        config.trainingSubset = 16
        let error = #expect(throws: BatchLargerThanTrainingSet.self) { try config.prepared(for: train, normalize: true) }
        #expect(error.map { "\($0)" } == "batch size 32 is larger than the 16 training images")
    }
}
