import FashionData
import FashionEngine

/// Loss and accuracy of a model over a whole dataset.
public struct EvaluationResult: Sendable {
    /// Mean cross-entropy over every sample.
    public let loss: Double
    /// Fraction classified correctly, 0…1.
    public let accuracy: Double
}

extension Sequential {
    /// Runs the model over `dataset` in batches (no gradients) and measures loss and accuracy.
    public func evaluate(on dataset: Dataset, scale: Bool, batchSize: Int = 1000) -> EvaluationResult {
        let batches = BatchIterator(dataset: dataset, batchSize: batchSize, shuffle: false, scale: scale, sampleShape: inputShape)
        let loss = SoftmaxCrossEntropy()
        var lossSum = 0.0
        var correct = 0
        for index in 0..<batches.batchCount {
            let (inputs, labels) = batches.load(batch: index)
            let result = loss(forward(inputs, training: false), labels, computeGradient: false)
            lossSum += result.lossSum
            correct += result.correct
        }
        return EvaluationResult(loss: lossSum / Double(dataset.count), accuracy: Double(correct) / Double(dataset.count))
    }
}
