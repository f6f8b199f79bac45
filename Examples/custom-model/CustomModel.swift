// A network of one's own, trained with the FashionLab libraries: a small CNN built from the library's layers,
// trained and measured on the test set. Copy this file into a package that depends on FashionLab (docs/library.md,
// "Depending on the package") and change the layers.
//
//     swift run -c release custom-model --epochs 2 [--subset 5000]
import ArgumentParser
import FashionCore
import FashionData
import FashionEngine
import FashionTraining

@main
struct CustomModel: ParsableCommand {
    @Option(help: "Epochs to train.") var epochs = 2
    @Option(help: "Train on the first N training images only (all when omitted).") var subset: Int?
    @Option(help: "Seed for the initial weights and the shuffling.") var seed: UInt64 = 0

    func run() throws {
        let data = try FashionMNISTLoader().load()  // --data's search order: $FASHIONLAB_DATA, the cache, Debian's package
        var generator = SeededGenerator(seed: seed)
        let model = Sequential(inputShape: [1, 28, 28], [
            Conv2d(1, 16, kernel: 3, padding: 1, using: &generator), BatchNorm(16, spatial: true), ReLU(), MaxPool2d(2),
            Conv2d(16, 32, kernel: 3, padding: 1, using: &generator), BatchNorm(32, spatial: true), ReLU(), MaxPool2d(2),
            Flatten(), Dropout(0.2, seed: seed), Linear(32 * 7 * 7, 10, using: &generator),
        ])
        var config = TrainingConfig()
        (config.optimizer, config.learningRate, config.batchSize, config.epochs) = (.adam, 0.002, 64, epochs)
        (config.seed, config.trainingSubset, config.trainingMetrics) = (seed, subset, .batches)
        let trainer = try Trainer(model: model, config: config, train: data.train, test: data.test)
        print("Training \(model.parameterCount) parameters on \(trainer.train.count) images for \(epochs) epoch(s)")
        for metrics in try trainer.run().epochs {
            print(String(format: "epoch %d: train loss %.4f, test accuracy %.2f%%", metrics.epoch, metrics.trainLoss,
                         (metrics.validationAccuracy ?? 0) * 100))
        }
        print(String(format: "Test accuracy %.2f%%", (trainer.history.last?.validationAccuracy ?? 0) * 100))
    }
}
