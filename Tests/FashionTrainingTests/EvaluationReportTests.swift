import Foundation
import Testing
import FashionTestSupport
import FashionCore
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
                                   "mostConfused", "misclassifiedShown", "unpredicted"])
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

    /// A model whose outputs are NaN or infinite for some images — a weight set to NaN or infinity, or finite
    /// weights so large that the sums overflow — predicts nothing for them: they are in no cell of the confusion
    /// matrix, count as wrong, make no mistake entry, and the report (with its NaN loss) still encodes.
    @Test(arguments: [Float.nan, .infinity, .greatestFiniteMagnitude])
    func outputsThatAreNotFiniteArePredictionsOfNothing(poison: Float) throws {
        let test = Dataset.bands(count: 120, seed: 4, bright: 180, dark: 20, noise: 60)
        let model = Sequential.mlp(inputs: 784, hidden: [8], classes: 10, seed: 2)
        let encoding = PixelEncoding(scale: true)
        let healthy = try EvaluationReport.measure(model, named: "tiny", on: test, encoding: encoding)
        #expect(healthy.unpredicted == 0)
        // The first hidden unit: every image that lights any of its pixels gets a poisoned output.
        let first = model.parameters[0].value
        for i in 0..<784 { first.data[i] = poison }
        let report = try EvaluationReport.measure(model, named: "broken", on: test, encoding: encoding)
        #expect(report.unpredicted > 0, "\(poison)")
        #expect(report.count == test.count)
        #expect(report.confusion.reduce(0) { $0 + $1.reduce(0, +) } == test.count - report.unpredicted)
        #expect(report.confusion == model.confusionMatrix(on: test, encoding: encoding))
        #expect(report.accuracy == Double(report.correct) / Double(test.count))
        let totals = test.classCounts
        for (c, name) in FashionMNIST.classNames.enumerated() where totals[c] > 0 {
            #expect(report.perClassAccuracy[name] == Double(report.confusion[c][c]) / Double(totals[c]))
        }
        #expect(report.misclassifiedShown.allSatisfy { $0.confidence.isFinite })
        let json = try NonFiniteJSON.encoder().encode(report)
        #expect(try NonFiniteJSON.decoder().decode(EvaluationReport.self, from: json).unpredicted == report.unpredicted)
    }

    @Test func aRowPredictsNothingWhenItHoldsNaNOrPlusInfinity() {
        func predicted(_ row: [Float]) -> Int? { row.withUnsafeBufferPointer { Sequential.predictedClass($0) } }
        #expect(predicted([1, 3, 3, 2]) == 1)                        // the first largest, as PyTorch's argmax
        #expect(predicted([-.infinity, 0.5, -.infinity]) == 1)       // a log-probability of 0 is still an answer
        #expect(predicted([1, .nan, 2]) == nil)
        #expect(predicted([1, .infinity, 2]) == nil)
        #expect(predicted([-.infinity, -.infinity]) == nil)
        #expect(predicted([]) == nil)
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
