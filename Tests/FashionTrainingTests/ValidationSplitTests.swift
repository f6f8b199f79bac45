import Foundation
import Testing
import FashionData
import FashionEngine
import FashionTraining
import FashionTestSupport

/// A validation set held out of the training set, the best epoch, and early stopping with the best weights restored.
@Suite struct ValidationSplitTests {
    @Test func theSplitIsStratifiedSeededAndDisjoint() throws {
        // 70 images of class 0, 20 of class 1, 10 of class 2, in a known order.
        let labels = [UInt8](repeating: 0, count: 70) + [UInt8](repeating: 1, count: 20) + [UInt8](repeating: 2, count: 10)
        let images = (0..<100).flatMap { [UInt8](repeating: UInt8($0), count: 4) }
        let data = try Dataset(images: images, labels: labels, rows: 2, cols: 2, classCount: 3)
        let (kept, heldOut) = data.stratifiedSplit(holdingOut: 15, seed: 1)
        #expect(heldOut.count == 15 && kept.count == 85)
        #expect(heldOut.classCounts == [11, 3, 1], "70:20:10 of 15 is 10.5 : 3 : 1.5; the one image left over goes to the first of the tied remainders")
        let ids = Set((0..<heldOut.count).map { heldOut.image($0).first! } + (0..<kept.count).map { kept.image($0).first! })
        #expect(ids.count == 100, "every image is in exactly one part")
        #expect(data.stratifiedSplit(holdingOut: 15, seed: 1).heldOut.images == heldOut.images)
        #expect(data.stratifiedSplit(holdingOut: 15, seed: 2).heldOut.images != heldOut.images)
    }

    @Test func aSplitIsANumberOrAFraction() {
        #expect(ValidationSplit(parsing: "5000") == .images(5000))
        #expect(ValidationSplit(parsing: "0.1")?.images(outOf: 60_000) == 6000)
        for bad in ["0", "-3", "1.5", "1.0", "x", ""] { #expect(ValidationSplit(parsing: bad) == nil, "\(bad)") }
    }

    @Test func theRunHoldsOutTrainingImagesAndTestsOnceAtTheEnd() throws {
        var config = TrainingConfig()
        (config.hidden, config.epochs, config.batchSize, config.seed) = ([16], 2, 16, 4)
        let train = Dataset.bands(count: 400, seed: 1, noise: 40), test = Dataset.bands(count: 100, seed: 2, noise: 40)
        config = try config.prepared(for: train, normalize: false, split: .images(80))
        let trainer = try Trainer(config: config, train: train, test: test)
        #expect(trainer.train.count == 320 && trainer.validation?.count == 80 && trainer.test?.count == 100)
        let history = try trainer.run()
        let measured = try #require(history.test)
        #expect(measured.epoch == 2)
        #expect(abs(measured.accuracy - (try trainer.evaluate(on: test).accuracy)) < 1e-9)
        #expect(history.epochs.allSatisfy { $0.validationAccuracy != nil })
        // Without a split the test set is the validation set and nothing is measured at the end.
        var plain = config
        plain.validationSplit = nil
        let notebook = try Trainer(config: plain, train: train, test: test)
        #expect(notebook.validation?.count == 100 && notebook.test == nil)
    }

    /// Early stopping ends the run when its patience runs out and restores the best epoch's weights: with a min delta
    /// no epoch can beat, epoch 1 stays the best, the run stops after 1 + patience epochs, and the model holds
    /// exactly the weights a 1-epoch run ends with. Also across an interruption: the best weights come back from
    /// best.safetensors.
    @Test func earlyStoppingRestoresTheBestWeightsAlsoAfterAResume() throws {
        var config = TrainingConfig()
        (config.hidden, config.batchSize, config.seed, config.learningRate) = ([16], 16, 7, 0.05)
        let train = Dataset.bands(count: 320, seed: 3, noise: 60), test = Dataset.bands(count: 80, seed: 4, noise: 60)
        var oneEpoch = config
        oneEpoch.epochs = 1
        let expected = try Trainer(config: oneEpoch, train: train, test: test)
        try expected.run()

        config.epochs = 10
        config.earlyStopping = EarlyStopping(patience: 2, minDelta: 100)
        let stopped = try Trainer(config: config, train: train, test: test)
        let history = try stopped.run()
        #expect(history.epochs.count == 3 && history.stoppedByEarlyStopping && history.bestEpoch == 1 && history.weightsEpoch == 1)
        #expect(stopped.model.weightsDigest == expected.model.weightsDigest)

        let directory = TestFiles.newPath("early-stop")
        let first = try Trainer(config: config, train: train, test: test)
        first.checkpointDirectory = directory
        try first.runEpoch()
        try first.runEpoch()
        #expect(FileManager.default.fileExists(atPath: directory + "/" + RunDirectory.bestModelFile))
        let resumed = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        let finished = try resumed.run()
        #expect(finished.epochs.count == 3 && finished.stoppedByEarlyStopping)
        #expect(resumed.model.weightsDigest == expected.model.weightsDigest)
        // best.safetensors is a model file evaluate and predict read: epoch 1's weights.
        let best = try ModelFile.load(directory + "/" + RunDirectory.bestModelFile)
        #expect(best.model.weightsDigest == expected.model.weightsDigest)
    }

    /// A checkpoint whose settings hold out more images than there are is refused, not resumed on the test set.
    @Test func aCheckpointWhoseSplitLeavesNothingToTrainIsRefused() throws {
        var config = TrainingConfig()
        (config.hidden, config.batchSize, config.epochs, config.validationSplit) = ([8], 16, 2, 40)
        let train = Dataset.bands(count: 160, seed: 1), directory = TestFiles.newPath("split-lie")
        let trainer = try Trainer(config: config, train: train, test: nil)
        trainer.checkpointDirectory = directory
        try trainer.runEpoch()
        let path = directory + "/" + RunDirectory.checkpointFile
        var file = try Safetensors.read(path)
        file.metadata["history"] = file.metadata["history"]!.replacingOccurrences(of: "\"validationSplit\":40", with: "\"validationSplit\":5000")
        try file.write(to: path)
        let error = #expect(throws: TrainingCheckpointError.self) { try TrainingCheckpoint.resume(from: directory, train: train, test: nil) }
        #expect(error?.message.contains("validationSplit 5000 leaves none of the 160 training images") == true, "\(String(describing: error))")
    }

    @Test func monitorsFollowKerasRule() {
        #expect(Monitor.validationLoss.improves(0.5, on: 0.6, minDelta: 0.05))
        #expect(!Monitor.validationLoss.improves(0.56, on: 0.6, minDelta: 0.05))
        #expect(Monitor.validationAccuracy.improves(0.9, on: 0.8, minDelta: 0))
        #expect(!Monitor.validationAccuracy.improves(.nan, on: 0.8, minDelta: 0))
        #expect(Monitor.validationLoss.improves(3, on: nil, minDelta: 0))
    }

    @Test func settingsAreValidated() {
        var config = TrainingConfig()
        config.earlyStopping = EarlyStopping(patience: 0)
        #expect(throws: SettingProblem.self) { try config.validate() }
        config.earlyStopping = EarlyStopping(patience: 3, minDelta: .nan)
        #expect(throws: SettingProblem.self) { try config.validate() }
        config.earlyStopping = nil
        config.validationSplit = 0
        #expect(throws: SettingProblem.self) { try config.validate() }
        let train = Dataset.bands(count: 100)
        #expect(throws: ValidationSplitTooLarge.self) { try TrainingConfig().prepared(for: train, normalize: false, split: .images(100)) }
    }
}

/// On Fashion-MNIST itself: 5,000 held out are 500 of each class, and the rest trains.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"),
                "needs Debian's dataset-fashion-mnist"))
struct RealValidationSplitTests {
    @Test func fiveThousandHeldOutAreFiveHundredPerClass() throws {
        let data = try FashionMNISTLoader.load(directory: "/usr/share/datasets/fashion-mnist")
        var config = TrainingConfig()
        config.validationSplit = 5000
        let run = config.runData(train: data.train, test: data.test)
        #expect(run.validation?.classCounts == [Int](repeating: 500, count: 10))
        #expect(run.train.classCounts == [Int](repeating: 5500, count: 10))
        #expect(run.test?.count == 10_000)
    }
}
