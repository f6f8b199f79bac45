import Foundation

/// Softmax followed by cross-entropy, fused with its gradient (`nn.CrossEntropyLoss`, mean reduction).
///
/// loss = mean over the batch of logsumexp(z) − z_y, computed stably (max subtracted);
/// dloss/dz = (softmax(z) − onehot(y)) / B.
///
/// With label smoothing ε the target is (1 − ε)·onehot(y) + ε/C, as in PyTorch's
/// `CrossEntropyLoss(label_smoothing: ε)`: loss = (1 − ε)·(−log p_y) + ε·mean over c of (−log p_c).
public final class SoftmaxCrossEntropy {
    /// The gradient with respect to the logits after the last `callAsFunction(…, computeGradient: true)`.
    public private(set) var gradient: Tensor?
    /// ε, 0 for plain cross-entropy.
    public let labelSmoothing: Float

    public init(labelSmoothing: Float = 0) {
        self.labelSmoothing = labelSmoothing
    }

    /// The result of one evaluation of the loss over a batch.
    public struct Result: Sendable {
        /// Mean loss over the batch.
        public let loss: Float
        /// Sum of the per-sample losses (in Double, for averaging over many batches).
        public let lossSum: Double
        /// How many samples have their label as the largest logit.
        public let correct: Int
    }

    /// Computes the loss for `logits` `[B, C]` and `labels` `[B]`, and (when asked) its gradient.
    public func callAsFunction(_ logits: Tensor, _ labels: LabelBuffer, computeGradient: Bool = true) -> Result {
        let batch = logits.shape[0]
        let classes = logits.count / batch
        precondition(labels.count == batch, "\(labels.count) labels for a batch of \(batch)")
        var dz: UnsafeMutablePointer<Float>?
        if computeGradient {
            let g = Tensor.reuse(gradient, shape: logits.shape)
            gradient = g
            dz = g.data
        }
        var lossSum = 0.0
        var correct = 0
        let scale = 1 / Float(batch)
        for b in 0..<batch {
            let z = logits.data + b * classes
            let label = Int(labels.data[b])
            var maxValue = z[0]
            var argmax = 0
            for c in 1..<classes where z[c] > maxValue { maxValue = z[c]; argmax = c }
            var sum: Float = 0
            for c in 0..<classes { sum += expf(z[c] - maxValue) }
            let logSum = logf(sum)
            // log Σ exp(z) − z_y, with the max taken out first so large logits lose no precision.
            var sampleLoss = logSum + (maxValue - z[label])
            if labelSmoothing > 0 {
                var meanLoss: Float = 0
                for c in 0..<classes { meanLoss += logSum + (maxValue - z[c]) }
                sampleLoss = (1 - labelSmoothing) * sampleLoss + labelSmoothing * meanLoss / Float(classes)
            }
            lossSum += Double(sampleLoss)
            if argmax == label { correct += 1 }
            if let dz {
                let row = dz + b * classes
                let spread = labelSmoothing / Float(classes) * scale
                for c in 0..<classes { row[c] = expf((z[c] - maxValue) - logSum) * scale - spread }
                row[label] -= (1 - labelSmoothing) * scale
            }
        }
        return Result(loss: Float(lossSum / Double(batch)), lossSum: lossSum, correct: correct)
    }
}

