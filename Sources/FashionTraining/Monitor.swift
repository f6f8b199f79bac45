/// What chooses a run's best epoch (`best.safetensors`) and what early stopping watches: a validation metric.
public enum Monitor: String, Codable, Sendable, CaseIterable {
    case validationLoss = "val-loss"
    case validationAccuracy = "val-accuracy"

    /// The metric of `epoch`; nil without a validation set.
    public func value(of epoch: EpochMetrics) -> Double? {
        switch self {
        case .validationLoss: epoch.validationLoss
        case .validationAccuracy: epoch.validationAccuracy
        }
    }

    /// Keras' rule: `value` improves on `best` when it is better by more than `minDelta` (lower for a loss,
    /// higher for an accuracy). NaN never improves.
    public func improves(_ value: Double, on best: Double?, minDelta: Double) -> Bool {
        guard !value.isNaN else { return false }
        guard let best else { return true }
        switch self {
        case .validationLoss: return value < best - minDelta
        case .validationAccuracy: return value > best + minDelta
        }
    }

    /// `val loss` or `val accuracy`, for reports.
    public var label: String { self == .validationLoss ? "validation loss" : "validation accuracy" }
}

/// Keras' `EarlyStopping(patience:, min_delta:, restore_best_weights=True)`: training stops once `patience`
/// epochs in a row have not improved the monitored metric by more than `minDelta`, and the model gets back
/// the weights of its best epoch.
public struct EarlyStopping: Codable, Sendable, Equatable {
    public var patience: Int
    public var minDelta: Double

    public init(patience: Int, minDelta: Double = 0) {
        self.patience = patience
        self.minDelta = minDelta
    }
}

/// The test set measured once, at the end of a run whose validation set was held out of the training set.
public struct TestMeasurement: Codable, Sendable, Equatable {
    public var loss: Double
    public var accuracy: Double
    /// The epoch whose weights were measured (the best one when early stopping restored it).
    public var epoch: Int
}

extension TrainingHistory {
    /// The epoch the monitor rates best so far (1-based), by Keras' rule with the early stopping's `minDelta`;
    /// nil before an epoch with a validation metric.
    public var bestEpoch: Int? {
        let monitor = config.monitor ?? .validationLoss
        let minDelta = config.earlyStopping?.minDelta ?? 0
        var best: (epoch: Int, value: Double)?
        for epoch in epochs {
            guard let value = monitor.value(of: epoch) else { continue }
            if monitor.improves(value, on: best?.value, minDelta: minDelta) { best = (epoch.epoch, value) }
        }
        return best?.epoch
    }

    /// True when early stopping ended the run: its patience ran out.
    public var stoppedByEarlyStopping: Bool {
        guard let rule = config.earlyStopping, stoppedEarly, let best = bestEpoch else { return false }
        return epochs.count - best >= rule.patience
    }

    /// The epoch whose weights the run's model holds: the best one after early stopping, else the last one.
    public var weightsEpoch: Int? { stoppedByEarlyStopping ? bestEpoch : epochs.last?.epoch }
}

extension TrainingHistory {
    /// What the validation set showed, a sentence each, for the terminal and the report: which images it was, the
    /// best epoch, what early stopping did, the test set measured once.
    public var validationOutcome: [String] {
        var lines: [String] = []
        guard !epochs.isEmpty else { return lines }
        let monitor = config.monitor ?? .validationLoss
        if let split = config.validationSplit {
            lines.append("Validation set: \(split) training images held out (stratified by class); the test set is measured once, at the end.")
        } else {
            lines.append("Validation set: the test images (the notebook's definition; --val-split holds out training images instead).")
        }
        if let best = bestEpoch, let metrics = epochs.first(where: { $0.epoch == best }), let value = monitor.value(of: metrics) {
            let shown = monitor == .validationLoss ? String(format: "%.4f", value) : String(format: "%.2f%%", value * 100)
            lines.append("Best epoch: \(best) of \(epochs.count) (\(monitor.label) \(shown)); its weights are in best.safetensors.")
        }
        if stoppedByEarlyStopping, let rule = config.earlyStopping, let best = bestEpoch {
            lines.append("Early stopping: \(monitor.label) did not improve by more than \(rule.minDelta) for \(rule.patience) epoch\(rule.patience == 1 ? "" : "s"); the weights of epoch \(best) are restored.")
        }
        if let test {
            let loss = test.loss.isFinite ? String(format: "%.4f", test.loss) : "\(test.loss)"
            lines.append(String(format: "Test accuracy: %.2f%% (loss %@), measured once, on the weights of epoch %d.", test.accuracy * 100, loss, test.epoch))
        }
        return lines
    }
}
