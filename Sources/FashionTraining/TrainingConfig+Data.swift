import FashionData

extension TrainingConfig {
    /// The images an epoch trains on: the training set, or its first `trainingSubset`, less the validation split.
    public func trainingImages(in train: Dataset) -> Int { min(train.count, trainingSubset ?? .max) - (validationSplit ?? 0) }

    /// This configuration made ready to train on `train`: `split` (`--val-split`) resolved into `validationSplit`;
    /// with `normalize`, the inputs' mean and standard deviation measured on the training set (after scaling; the
    /// held-out validation images left out) and stored in `normalization`. Throws when the split leaves nothing to
    /// train on, or a batch is larger than the images an epoch trains on.
    public func prepared(for train: Dataset, normalize: Bool, split: ValidationSplit? = nil) throws -> TrainingConfig {
        var config = self
        if let split {
            let available = min(train.count, trainingSubset ?? .max)
            let heldOut = split.images(outOf: available)
            guard heldOut < available else { throw ValidationSplitTooLarge(split: split, heldOut: heldOut, available: available) }
            config.validationSplit = heldOut
        }
        let images = config.trainingImages(in: train)
        guard config.batchSize <= images else { throw BatchLargerThanTrainingSet(batchSize: batchSize, trainingImages: images) }
        if normalize {
            // On the training set as the notebook measures it; without the held-out images when there are some.
            let measured = config.validationSplit == nil ? train : config.runData(train: train, test: nil).train
            config.normalization = .measured(on: measured, scale: scale)
        }
        return config
    }
}

/// A validation split that leaves no image to train on.
public struct ValidationSplitTooLarge: Error, CustomStringConvertible {
    public let split: ValidationSplit
    public let heldOut: Int
    public let available: Int
    public var description: String { "\(split) holds out \(heldOut) of the \(available) training images and leaves none to train on" }
}

/// A batch size larger than the training images of an epoch.
public struct BatchLargerThanTrainingSet: Error, CustomStringConvertible {
    public let batchSize: Int
    public let trainingImages: Int
    public var description: String { "batch size \(batchSize) is larger than the \(trainingImages) training images" }
}
