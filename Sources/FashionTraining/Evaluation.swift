import FashionData
import FashionEngine

/// Loss and accuracy of a model over a whole dataset.
public struct EvaluationResult: Sendable {
    /// Mean cross-entropy over every sample.
    public let loss: Double
    /// Fraction classified correctly, 0…1.
    public let accuracy: Double

    public init(loss: Double, accuracy: Double) {
        self.loss = loss
        self.accuracy = accuracy
    }
}

extension Sequential {
    /// Runs the model over `dataset` in batches (no gradients) and measures loss and accuracy.
    public func evaluate(on dataset: Dataset, encoding: PixelEncoding, batchSize: Int = 1000) -> EvaluationResult {
        let batches = BatchIterator(dataset: dataset, batchSize: batchSize, shuffle: false, encoding: encoding, sampleShape: inputShape)
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

extension Sequential {
    /// The logits of every image of `dataset` (`[count, classes]`, row-major), in evaluation mode, on `backend`.
    public func logits(on dataset: Dataset, encoding: PixelEncoding, batchSize: Int = 1000, backend: ComputeBackend = .cpu) throws -> [Float] {
        if case .cuda(let device) = backend.running(self).backend {
            return try logitsOnGPU(self, dataset: dataset, encoding: encoding, batchSize: batchSize, device: device)
        }
        let batches = BatchIterator(dataset: dataset, batchSize: batchSize, shuffle: false, encoding: encoding, sampleShape: inputShape)
        var logits: [Float] = []
        for index in 0..<batches.batchCount {
            let (inputs, _) = batches.load(batch: index)
            logits += forward(inputs, training: false).buffer
        }
        return logits
    }

    /// counts[true][predicted] over `dataset`.
    public func confusionMatrix(on dataset: Dataset, encoding: PixelEncoding, batchSize: Int = 1000) -> [[Int]] {
        let batches = BatchIterator(dataset: dataset, batchSize: batchSize, shuffle: false, encoding: encoding, sampleShape: inputShape)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: dataset.classCount), count: dataset.classCount)
        for index in 0..<batches.batchCount {
            let (inputs, labels) = batches.load(batch: index)
            let logits = forward(inputs, training: false)
            let classes = logits.count / labels.count
            for row in 0..<labels.count {
                let z = logits.data + row * classes
                var best = 0
                for c in 1..<classes where z[c] > z[best] { best = c }
                counts[Int(labels.data[row])][best] += 1
            }
        }
        return counts
    }
}
