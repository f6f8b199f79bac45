import Foundation
import Testing
import FashionCore
import FashionData
import FashionEngine
import FashionTraining
import FashionTestSupport

/// A small synthetic dataset: class c images are bright in band c (so a model can learn them), with noise.
func syntheticDataset(count: Int, seed: UInt64 = 0) -> Dataset {
    Dataset.bands(count: count, seed: seed, bright: 180, dark: 20, noise: 60)
}

@Suite struct BatchIteratorTests {
    @Test func everyImageOncePerEpochWithAPartialLastBatch() {
        let dataset = syntheticDataset(count: 70)
        let batches = BatchIterator(dataset: dataset, batchSize: 32, shuffle: true, encoding: PixelEncoding(scale: true))
        #expect(batches.batchCount == 3)
        var firstOrder = [Int32]()
        for epoch in 0..<2 {
            batches.startEpoch()
            var seen = [Int32]()
            var sizes = [Int]()
            for index in 0..<batches.batchCount {
                let (x, y) = batches.load(batch: index)
                sizes.append(x.shape[0])
                #expect(x.shape[1] == 784 && y.count == x.shape[0])
                // Identify each image by its pixels: find its index in the dataset.
                for row in 0..<x.shape[0] {
                    let pixels = (0..<784).map { UInt8((x.data[row * 784 + $0] * 255).rounded()) }
                    let match = (0..<dataset.count).first { Array(dataset.image($0)) == pixels }!
                    #expect(Int32(dataset.labels[match]) == y.data[row])
                    seen.append(Int32(match))
                }
            }
            #expect(sizes == [32, 32, 6])
            #expect(Set(seen).count == 70)
            if epoch == 0 { firstOrder = seen } else { #expect(seen != firstOrder, "reshuffled every epoch") }
        }
    }

    @Test func unscaledBatchesKeepRawPixelValues() {
        let dataset = syntheticDataset(count: 5)
        let (x, _) = BatchIterator(dataset: dataset, batchSize: 5, shuffle: false, encoding: PixelEncoding(scale: false)).load(batch: 0)
        #expect(x.toArray() == dataset.images.map(Float.init))
        let (scaled, _) = BatchIterator(dataset: dataset, batchSize: 5, shuffle: false, encoding: PixelEncoding(scale: true)).load(batch: 0)
        #expect(scaled.toArray() == dataset.images.map { Float($0) / 255 })
    }
}

@Suite struct TrainerTests {
    func config(_ optimizer: OptimizerKind, lr: Float, epochs: Int = 3, seed: UInt64 = 1) -> TrainingConfig {
        var config = TrainingConfig()
        config.hidden = [32]
        config.optimizer = optimizer
        config.learningRate = lr
        config.epochs = epochs
        config.batchSize = 16
        config.seed = seed
        return config
    }

    @Test(arguments: [(OptimizerKind.sgd, Float(0.1)), (.adam, 0.003), (.adamw, 0.003)])
    func learnsASimpleProblem(optimizer: OptimizerKind, lr: Float) throws {
        let trainer = try Trainer(config: config(optimizer, lr: lr), train: syntheticDataset(count: 400), test: syntheticDataset(count: 200, seed: 9))
        let history = try trainer.run()
        #expect(history.epochs.count == 3 && !history.diverged)
        #expect(history.epochs.last!.trainLoss < history.epochs.first!.trainLoss)
        #expect(history.epochs.last!.validationAccuracy! > 0.9)
        #expect(history.csv().split(separator: "\n").count == 4)
    }

    @Test func sameSeedSameNumbers() throws {
        let data = syntheticDataset(count: 200)
        let a = try Trainer(config: config(.adam, lr: 0.003, epochs: 2), train: data, test: nil).run()
        let b = try Trainer(config: config(.adam, lr: 0.003, epochs: 2), train: data, test: nil).run()
        let c = try Trainer(config: config(.adam, lr: 0.003, epochs: 2, seed: 2), train: data, test: nil).run()
        #expect(a.epochs.map(\.trainLoss) == b.epochs.map(\.trainLoss))
        #expect(a.epochs.map(\.trainLoss) != c.epochs.map(\.trainLoss))
    }

    @Test func divergenceIsRecordedNotFatal() throws {
        var settings = config(.sgd, lr: 1e30, epochs: 5)
        settings.scale = false
        let history = try Trainer(config: settings, train: syntheticDataset(count: 200), test: syntheticDataset(count: 50)).run()
        #expect(history.diverged)
        #expect(history.epochs.count < 5)
        #expect(!history.epochs.last!.trainLoss.isFinite)
    }

    final class StopAfterTwo: TrainingObserver {
        var batches = 0
        func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) { batches += 1 }
        func trainer(_ trainer: Trainer, didFinishEpoch metrics: EpochMetrics) -> TrainingDecision { metrics.epoch == 2 ? .stop : .continue }
    }

    @Test func observersSeeBatchesAndCanStop() throws {
        let observer = StopAfterTwo()
        let history = try Trainer(config: config(.sgd, lr: 0.1, epochs: 5), train: syntheticDataset(count: 64), test: nil).run(observer: observer)
        #expect(history.epochs.count == 2 && history.stoppedEarly)
        #expect(observer.batches == 8)
    }

    @Test func checkpointRoundTripKeepsAccuracy() throws {
        let data = syntheticDataset(count: 300)
        let trainer = try Trainer(config: config(.adam, lr: 0.003, epochs: 1), train: data, test: nil)
        try trainer.run()
        let path = TestFiles.newPath("checkpoint") + "/model.safetensors"
        try trainer.model.stateDict(metadata: ["format": "pt"]).write(to: path)
        let restored = try trainer.config.buildModel()
        try restored.load(Safetensors.read(path), name: path)
        let before = trainer.model.evaluate(on: data, encoding: PixelEncoding(scale: true))
        let after = restored.evaluate(on: data, encoding: PixelEncoding(scale: true))
        #expect(before.accuracy == after.accuracy && before.loss == after.loss)
    }

    /// Weights saved for another version of a network (here: a wider hidden layer, or a layer more) get an error
    /// that names the file, what does not fit and the network the run's settings describe.
    @Test func weightsOfAnotherNetworkAreRefusedWithTheNetworksName() throws {
        var settings = config(.sgd, lr: 0.1, epochs: 1)
        settings.hidden = [8]
        let path = TestFiles.newPath("other-network", extension: "safetensors")
        for saved in [Sequential.mlp(inputs: 784, hidden: [16], classes: 10), Sequential.mlp(inputs: 784, hidden: [8, 8], classes: 10)] {
            try saved.stateDict().write(to: path)
            let error = #expect(throws: SafetensorsError.self) {
                try settings.load(Safetensors.read(path), into: try settings.buildModel(), from: path)
            }
            let message = error?.description ?? ""
            #expect(message.hasPrefix(path + ": "), "\(message)")
            #expect(message.contains("the file does not hold the mlp 784-8-10 its settings name"), "\(message)")
            #expect(message.contains("0.weight") || message.contains("4.weight"), "\(message)")
        }
    }
}
