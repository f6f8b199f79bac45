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

    /// The small CNN in under five minutes on a 2-core CPU (what it reached: `summary`, and the CHANGELOG).
    public static let cnn = Recipe(
        name: "cnn",
        summary: "cnn, Adam with a one-cycle schedule peaking at 0.004, batch 64, 6 epochs, normalised inputs; 93.89% mean test accuracy over 3 seeds (93.79–93.95%) in about 134 s on 2 cores, 93.94% (93.78–94.11%) in about 21 s on an NVIDIA H200",
        config: make { config in
            config.model = .cnn
            config.optimizer = .adam
            config.learningRate = 0.004
            config.schedule = .oneCycle(warmup: 0.3)
            config.batchSize = 64
            config.epochs = 6
            config.trainingMetrics = .batches
        },
        normalize: true)

    /// The wider CNN for users with more time or a GPU (what it reached: `summary`, and the CHANGELOG).
    public static let largeCNN = Recipe(
        name: "cnn-large",
        summary: "cnn-large, AdamW (weight decay 0.05) with a one-cycle schedule peaking at 0.003, batch 128, 32 epochs, normalised inputs, random flips, crops (padding 2) and erasing (0.3), label smoothing 0.1; 94.89% and 95.05% test accuracy for seeds 0 and 1 (mean 94.97%) in about an hour each on 2 cores",
        config: make { config in
            config.model = .cnnLarge
            config.optimizer = .adamw
            config.learningRate = 0.003
            config.weightDecay = 0.05
            config.schedule = .oneCycle(warmup: 0.3)
            config.batchSize = 128
            config.epochs = 32
            config.augmentation = Augmentation(flip: true, cropPadding: 2, erasing: 0.3)
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
