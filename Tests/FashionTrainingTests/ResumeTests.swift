import Foundation
import Testing
import FashionCore
import FashionEngine
import FashionTraining
import FashionTestSupport

@Suite struct ResumeTests {
    func config(_ optimizer: OptimizerKind) -> TrainingConfig {
        var config = TrainingConfig()
        config.hidden = [24]
        config.optimizer = optimizer
        config.learningRate = optimizer == .sgd ? 0.05 : 0.003
        config.momentum = optimizer == .sgd ? 0.9 : 0
        config.schedule = .cosine(minimum: 0)
        config.epochs = 4
        config.batchSize = 16
        config.seed = 3
        return config
    }

    @Test(arguments: [OptimizerKind.sgd, .adam])
    func interruptedAndResumedRunIsBitIdentical(optimizer: OptimizerKind) throws {
        let train = syntheticDataset(count: 300), test = syntheticDataset(count: 60, seed: 5)
        let uninterrupted = try Trainer(config: config(optimizer), train: train, test: test)
        let expected = try uninterrupted.run()

        let directory = TestFiles.newPath("resume")
        let first = try Trainer(config: config(optimizer), train: train, test: test)
        first.checkpointDirectory = directory
        var batches = 0
        first.stopRequested = {
            batches += 1
            return batches > 19 * 2 + 7   // in the middle of the third epoch (19 batches each)
        }
        let partial = try first.run()
        #expect(partial.interrupted && partial.epochs.count == 2)

        let resumed = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        #expect(resumed.history.epochs.count == 2)
        let finished = try resumed.run()
        #expect(finished.epochs.count == 4 && !finished.interrupted)
        #expect(resumed.model.weightsDigest == uninterrupted.model.weightsDigest)
        #expect(finished.epochs.map(\.trainLoss) == expected.epochs.map(\.trainLoss))
        #expect(finished.epochs.map(\.validationAccuracy) == expected.epochs.map(\.validationAccuracy))
    }

    /// `metrics.json` is written while a run trains: a run killed after its last epoch but before its final save
    /// has a finished history beside the model of an earlier interrupted save. It must not pass as finished.
    @Test func aFinishedHistoryBesideAnOlderModelIsNotAFinishedRun() throws {
        let train = syntheticDataset(count: 200), test = syntheticDataset(count: 40, seed: 5)
        let directory = TestFiles.newPath("finished-run")
        let trainer = try Trainer(config: config(.sgd), train: train, test: test)
        trainer.checkpointDirectory = directory
        var batches = 0
        trainer.stopRequested = { batches += 1; return batches > 13 * 2 + 3 }   // in the third of four epochs
        let partial = try trainer.run()
        try RunDirectory.save(history: partial, model: trainer.model, to: directory)   // the interrupted run's save
        #expect(RunDirectory.finishedRun(in: directory, config: config(.sgd)) == nil)

        let resumed = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        resumed.checkpointDirectory = directory
        let finished = try resumed.run()   // metrics.json now finished; killed before RunDirectory.save
        #expect(try RunDirectory.loadHistory(from: directory).isFinished)
        #expect(RunDirectory.finishedRun(in: directory, config: config(.sgd)) == nil, "the epoch-2 model passed as the finished run's")

        try RunDirectory.save(history: finished, model: resumed.model, to: directory)
        let run = try #require(RunDirectory.finishedRun(in: directory, config: config(.sgd)))
        #expect(run.model.weightsDigest == resumed.model.weightsDigest && run.history.epochs.count == 4)
        #expect(RunDirectory.finishedRun(in: directory, config: config(.adam)) == nil)
    }

    @Test func resumeRefusesOtherFiles() throws {
        let directory = TestFiles.newPath("resume")
        try Sequential.mlp(inputs: 784, hidden: [4], classes: 10).stateDict().write(to: directory + "/" + RunDirectory.checkpointFile)
        let error = #expect(throws: TrainingCheckpointError.self) {
            try TrainingCheckpoint.resume(from: directory, train: syntheticDataset(count: 20), test: nil)
        }
        #expect(error?.message.contains("not a FashionLab training checkpoint") == true)
    }

    /// A well-formed checkpoint whose Adam state is larger than its parameter (the next step would have written
    /// past the end of the state buffer) is refused, naming the file and the tensor.
    @Test func optimiserStateOfAnotherShapeIsRefused() throws {
        let train = syntheticDataset(count: 64)
        var settings = config(.adam)
        settings.epochs = 2
        let directory = TestFiles.newPath("resume-lie")
        let first = try Trainer(config: settings, train: train, test: nil)
        first.checkpointDirectory = directory
        _ = try first.runEpoch()
        let path = directory + "/" + RunDirectory.checkpointFile
        var file = try Safetensors.read(path)
        let bigger = Tensor(shape: [10 * 24 + 999])
        file.set("optimizer.2.bias.exp_avg", Safetensors.Entry(dtype: "F32", shape: bigger.shape,
                                                               bytes: Array(UnsafeRawBufferPointer(start: bigger.data, count: bigger.count * 4))))
        try file.write(to: path)
        let error = #expect(throws: TrainingCheckpointError.self) { try TrainingCheckpoint.resume(from: directory, train: train, test: nil) }
        #expect(error?.message.contains(path) == true, "\(String(describing: error))")
        #expect(error?.message.contains("'2.bias.exp_avg' has shape [1239], but parameter 2.bias has [10]") == true, "\(String(describing: error))")
    }

    /// Found by the checkpoint fuzzer: a dropout count of 2⁶⁴−1 made the next training step trap. A count above
    /// the run's steps is refused; the counter itself wraps.
    @Test func aDropoutCountBeyondTheStepsIsRefused() throws {
        let train = syntheticDataset(count: 64)
        var settings = config(.sgd)
        settings.epochs = 2
        var generator = SeededGenerator(seed: 1)
        let model = Sequential(inputShape: [784], [Linear(784, 16, using: &generator), ReLU(), Dropout(0.3, seed: 2), Linear(16, 10, using: &generator)])
        let directory = TestFiles.newPath("resume-dropout")
        let first = try Trainer(model: model, config: settings, train: train, test: nil)
        first.checkpointDirectory = directory
        _ = try first.runEpoch()
        let path = directory + "/" + RunDirectory.checkpointFile
        var file = try Safetensors.read(path)
        file.metadata["dropout_calls"] = String(UInt64.max)
        try file.write(to: path)
        let error = #expect(throws: TrainingCheckpointError.self) { try TrainingCheckpoint.resume(from: directory, train: train, test: nil) }
        #expect(error?.message.contains("dropout_calls 18446744073709551615 is more than the 4 optimizer steps") == true, "\(String(describing: error))")

        let layer = Dropout(0.5, seed: 3)
        layer.calls = .max
        var mask = [UInt8](repeating: 0, count: 8)
        mask.withUnsafeMutableBufferPointer { layer.drawKeepMask(into: $0) }
        #expect(layer.calls == 0)
    }
}

@Suite struct CNNTrainingTests {
    /// The CNN trains (a few steps on 64 images), and a resumed run repeats the dropout masks, the
    /// augmentations and the batch-norm statistics exactly.
    @Test(arguments: [false, true])
    func cnnResumesBitIdentically(augmented: Bool) throws {
        var config = TrainingConfig()
        config.model = .cnn
        if augmented {
            config.augmentation = Augmentation(flip: true, cropPadding: 2, erasing: 0.5)
            config.normalization = .init(mean: 0.3, std: 0.4)
            config.labelSmoothing = 0.1
            config.trainingMetrics = .batches
            config.schedule = .oneCycle(warmup: 0.3)
        }
        config.optimizer = .adam
        config.learningRate = 0.001
        config.epochs = 2
        config.batchSize = 16
        let train = syntheticDataset(count: 64), test = syntheticDataset(count: 16, seed: 4)
        let reference = try Trainer(config: config, train: train, test: test)
        let expected = try reference.run()
        #expect(expected.epochs.count == 2 && expected.epochs[1].trainLoss < expected.epochs[0].trainLoss)

        let directory = TestFiles.newPath("cnn-resume")
        let first = try Trainer(config: config, train: train, test: test)
        first.checkpointDirectory = directory
        var batches = 0
        first.stopRequested = { batches += 1; return batches > 6 }
        _ = try first.run()
        let resumed = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        _ = try resumed.run()
        #expect(resumed.model.weightsDigest == reference.model.weightsDigest)
        #expect(resumed.model.buffers.map { $0.value.toArray() } == reference.model.buffers.map { $0.value.toArray() })
    }
}
