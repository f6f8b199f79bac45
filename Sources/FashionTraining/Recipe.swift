/// A named training setup that `fashionlab train --recipe NAME` runs, documented with what it reaches.
public struct Recipe: Sendable {
    public let name: String
    /// What it is for and what it reached on the reference machine.
    public let summary: String
    /// Everything but the seed (and the normalisation values, measured on the training set when `normalize`).
    public let config: TrainingConfig
    /// Normalise inputs by the training pixels' mean and standard deviation.
    public let normalize: Bool

    /// The recipes, by name.
    public static let all: [Recipe] = [cnn, largeCNN]

    public static func named(_ name: String) -> Recipe? { all.first { $0.name == name } }

    /// The small CNN in under five minutes on a 2-core CPU.
    public static let cnn = Recipe(
        name: "cnn",
        summary: "cnn, Adam 0.001 with a cosine schedule, batch 64, 6 epochs, normalised inputs, random flips, label smoothing 0.1; ≥ 93.5% test accuracy in under 5 minutes on 2 cores",
        config: make { config in
            config.model = "cnn"
            config.optimizer = .adam
            config.learningRate = 0.001
            config.schedule = .cosine(minimum: 0)
            config.batchSize = 64
            config.epochs = 6
            config.augmentation = Augmentation(flip: true)
            config.labelSmoothing = 0.1
            config.trainingMetrics = .batches
        },
        normalize: true)

    /// The wider CNN for users with more time or a GPU.
    public static let largeCNN = Recipe(
        name: "cnn-large",
        summary: "cnn-large, AdamW 0.002 (weight decay 0.05) with a cosine schedule, batch 128, 30 epochs, normalised inputs, random flips, crops (padding 2) and erasing, label smoothing 0.1",
        config: make { config in
            config.model = "cnn-large"
            config.optimizer = .adamw
            config.learningRate = 0.002
            config.weightDecay = 0.05
            config.schedule = .cosine(minimum: 0)
            config.batchSize = 128
            config.epochs = 30
            config.augmentation = Augmentation(flip: true, cropPadding: 2, erasing: 0.5)
            config.labelSmoothing = 0.1
            config.trainingMetrics = .batches
        },
        normalize: true)

    private static func make(_ body: (inout TrainingConfig) -> Void) -> TrainingConfig {
        var config = TrainingConfig()
        body(&config)
        return config
    }
}
