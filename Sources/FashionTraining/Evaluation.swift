import Foundation
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

/// Predictions averaged over transformed copies of each test image (`fashionlab evaluate --tta`).
public enum TestTimeAugmentation: String, Sendable, CaseIterable {
    /// The image alone.
    case none
    /// The image and its mirror image.
    case flip
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
    /// With test-time augmentation `.flip`: the log of the mean of the softmax over each image and its mirror
    /// image instead (usable as logits; a model trained with random flips sees both as the same class).
    public func logits(on dataset: Dataset, encoding: PixelEncoding, batchSize: Int = 1000, backend: ComputeBackend = .cpu,
                       testTimeAugmentation: TestTimeAugmentation = .none) throws -> [Float] {
        let plain = try plainLogits(on: dataset, encoding: encoding, batchSize: batchSize, backend: backend)
        guard testTimeAugmentation == .flip else { return plain }
        let mirrored = try plainLogits(on: dataset.horizontallyFlipped(), encoding: encoding, batchSize: batchSize, backend: backend)
        let classes = plain.count / max(1, dataset.count)
        return zip(Self.softmax(plain, classes: classes), Self.softmax(mirrored, classes: classes)).flatMap { p, q in
            zip(p, q).map { logf(($0 + $1) / 2) }
        }
    }

    private func plainLogits(on dataset: Dataset, encoding: PixelEncoding, batchSize: Int, backend: ComputeBackend) throws -> [Float] {
        try backend.running(self).backend.makeEngine(for: self, encoding: encoding).logits(dataset, batchSize: batchSize)
    }

    /// counts[true][predicted] over `dataset`. An image the model gives no prediction (``predictedClass(_:)``)
    /// is in no cell: the counts of a class then add up to fewer than its images.
    public func confusionMatrix(on dataset: Dataset, encoding: PixelEncoding, batchSize: Int = 1000) -> [[Int]] {
        let batches = BatchIterator(dataset: dataset, batchSize: batchSize, shuffle: false, encoding: encoding, sampleShape: inputShape)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: dataset.classCount), count: dataset.classCount)
        for index in 0..<batches.batchCount {
            let (inputs, labels) = batches.load(batch: index)
            let logits = forward(inputs, training: false)
            let classes = logits.count / labels.count
            for row in 0..<labels.count {
                let z = UnsafeBufferPointer(start: logits.data + row * classes, count: classes)
                if let predicted = Self.predictedClass(z) { counts[Int(labels.data[row])][predicted] += 1 }
            }
        }
        return counts
    }

    /// The class one image's outputs predict: the first largest, as PyTorch's `argmax`; nil when they predict
    /// nothing — a NaN or +infinity among them, or all of them −infinity — as a model whose weights are not
    /// finite gives. (−infinity alone is a probability of 0, as test-time augmentation's log can give.)
    public static func predictedClass(_ outputs: UnsafeBufferPointer<Float>) -> Int? {
        guard !outputs.isEmpty else { return nil }
        var best = 0
        for c in outputs.indices {
            let value = outputs[c]
            if value.isNaN || value == .infinity { return nil }
            if value > outputs[best] { best = c }
        }
        return outputs[best] == -.infinity ? nil : best
    }
}
