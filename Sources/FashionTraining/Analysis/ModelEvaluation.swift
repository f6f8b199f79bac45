import Foundation
import FashionData
import FashionEngine

/// How a trained model does on a labelled dataset, class by class (`fashionlab evaluate`; `evaluation.json`).
public struct EvaluationReport: Codable, Sendable, Equatable {
    /// One off-diagonal cell of the confusion matrix: images of `trueClass` predicted as `predicted`.
    public struct Pair: Codable, Sendable, Equatable {
        public let trueClass: String
        public let predicted: String
        public let count: Int

        public init(trueClass: String, predicted: String, count: Int) {
            self.trueClass = trueClass
            self.predicted = predicted
            self.count = count
        }
    }

    /// One misclassified image: its index in the dataset, its class, the predicted class and that class's probability.
    public struct Mistake: Codable, Sendable, Equatable {
        public let index: Int
        public let trueClass: Int
        public let predicted: Int
        public let confidence: Float

        public init(index: Int, trueClass: Int, predicted: Int, confidence: Float) {
            self.index = index
            self.trueClass = trueClass
            self.predicted = predicted
            self.confidence = confidence
        }
    }

    /// What the model was loaded from, as the user named it.
    public let model: String
    /// `TestTimeAugmentation`'s raw value.
    public let testTimeAugmentation: String
    /// Fraction classified correctly, 0…1.
    public let accuracy: Double
    /// Mean cross-entropy (NaN or infinite when the model's outputs are).
    public let loss: Double
    /// Each class's recall (correct ÷ images of that class), by class name.
    public let perClassAccuracy: [String: Double]
    /// confusion[true][predicted], over the images the model gave a prediction.
    public let confusion: [[Int]]
    /// Images the model gave no prediction, their outputs not finite (`Sequential.predictedClass(_:)`);
    /// they count as wrong and are in no cell of ``confusion``.
    public let unpredicted: Int
    /// The `mostConfusedShown` largest off-diagonal cells, largest first.
    public let mostConfused: [Pair]
    /// The `mistakesShown` mistakes made with the highest confidence, most confident first.
    public let misclassifiedShown: [Mistake]

    public static let mostConfusedShown = 5
    public static let mistakesShown = 40

    /// A report from a confusion matrix and the list of mistakes (in any order); `accuracy` and `loss` as measured.
    /// `classTotals`: the images of each class, when some had no prediction (by default the confusion's row sums).
    public init(model: String, testTimeAugmentation: TestTimeAugmentation = .none, accuracy: Double, loss: Double,
                confusion: [[Int]], mistakes: [Mistake], classTotals: [Int]? = nil, classNames: [String] = FashionMNIST.classNames) {
        self.model = model
        self.testTimeAugmentation = testTimeAugmentation.rawValue
        self.accuracy = accuracy
        self.loss = loss
        self.confusion = confusion
        let totals = classTotals ?? confusion.map { $0.reduce(0, +) }
        unpredicted = totals.reduce(0, +) - confusion.reduce(0) { $0 + $1.reduce(0, +) }
        let classes = confusion.indices
        perClassAccuracy = Dictionary(uniqueKeysWithValues: classes.map {
            (classNames[$0], Double(confusion[$0][$0]) / Double(max(1, totals[$0])))
        })
        mostConfused = Array(classes.flatMap { t in
            classes.filter { $0 != t }.map { Pair(trueClass: classNames[t], predicted: classNames[$0], count: confusion[t][$0]) }
        }.sorted { $0.count > $1.count }.prefix(Self.mostConfusedShown))
        misclassifiedShown = Array(mistakes.sorted { $0.confidence > $1.confidence }.prefix(Self.mistakesShown))
    }

    /// Evaluates `model` on every image of `dataset`: one pass (two with `.flip`) gives the loss, the accuracy,
    /// the confusion matrix and the class probabilities of the mistakes.
    public static func measure(_ model: Sequential, named name: String, on dataset: Dataset, encoding: PixelEncoding,
                               batchSize: Int = 1000, backend: ComputeBackend = .cpu,
                               testTimeAugmentation: TestTimeAugmentation = .none) throws -> EvaluationReport {
        let classes = FashionMNIST.classNames.count
        let logits = try model.logits(on: dataset, encoding: encoding, batchSize: batchSize, backend: backend,
                                      testTimeAugmentation: testTimeAugmentation)
        let outcome = SoftmaxCrossEntropy()(Tensor(shape: [dataset.count, classes], values: logits),
                                            LabelBuffer(dataset.labels.map(Int32.init)), computeGradient: false)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var mistakes: [Mistake] = []
        let probabilities = Sequential.softmax(logits, classes: classes)
        let predictions = logits.withUnsafeBufferPointer { all in
            (0..<dataset.count).map { Sequential.predictedClass(UnsafeBufferPointer(rebasing: all[$0 * classes ..< ($0 + 1) * classes])) }
        }
        for (index, prediction) in predictions.enumerated() {
            guard let predicted = prediction else { continue }
            let truth = Int(dataset.labels[index])
            confusion[truth][predicted] += 1
            if predicted != truth {
                mistakes.append(Mistake(index: index, trueClass: truth, predicted: predicted, confidence: probabilities[index][predicted]))
            }
        }
        let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
        return EvaluationReport(model: name, testTimeAugmentation: testTimeAugmentation,
                                accuracy: Double(correct) / Double(dataset.count), loss: outcome.lossSum / Double(dataset.count),
                                confusion: confusion, mistakes: mistakes, classTotals: dataset.classCounts)
    }

    /// Images classified correctly (the diagonal).
    public var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }

    /// Images evaluated, with a prediction or without.
    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } + unpredicted }

    /// The confusion matrix as `confusion.txt` holds it: a header of predicted classes, a row per true class.
    public var confusionTable: String {
        let header = "      " + confusion.indices.map { String(format: "%5d", $0) }.joined() + "\n"
        return header + confusion.enumerated().map { row, values in
            String(format: "%5d ", row) + values.map { String(format: "%5d", $0) }.joined()
        }.joined(separator: "\n") + "\n"
    }
}
