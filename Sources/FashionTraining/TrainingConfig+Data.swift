import FashionData

extension TrainingConfig {
    /// The images an epoch trains on: the training set, or its first `trainingSubset`.
    public func trainingImages(in train: Dataset) -> Int { min(train.count, trainingSubset ?? .max) }

    /// This configuration made ready to train on `train`: with `normalize`, the inputs' mean and standard deviation
    /// are measured on the training set (after scaling) and stored in `normalization`. Throws when a batch is
    /// larger than the images an epoch trains on.
    public func prepared(for train: Dataset, normalize: Bool) throws -> TrainingConfig {
        let images = trainingImages(in: train)
        guard batchSize <= images else { throw BatchLargerThanTrainingSet(batchSize: batchSize, trainingImages: images) }
        var config = self
        if normalize { config.normalization = .measured(on: train, scale: scale) }
        return config
    }
}

/// A batch size larger than the training images of an epoch.
public struct BatchLargerThanTrainingSet: Error, CustomStringConvertible {
    public let batchSize: Int
    public let trainingImages: Int
    public var description: String { "batch size \(batchSize) is larger than the \(trainingImages) training images" }
}
