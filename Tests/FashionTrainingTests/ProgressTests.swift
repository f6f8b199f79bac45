import Foundation
import Testing
import FashionTestSupport
import FashionData
import FashionTraining

/// What the progress bar and `--log-every` report.
@Suite struct ProgressTests {
    @Test func timeLeftCountsTheRestOfTheEpochTheLaterEpochsAndTheirEvaluations() {
        let progress = TrainingProgress(epochs: 3, batchesPerEpoch: 100, imagesPerEpoch: 3200)
        // 25 steps in 5 s: 0.2 s a step, 640 images a second; 75 steps left in epoch 1, then 2 × 100 more, each with 2 s of evaluation.
        let now = progress.snapshot(epoch: 1, batch: 24, elapsed: 5, evaluationSeconds: 2)
        #expect(abs(now.millisecondsPerStep - 200) < 1e-9 && abs(now.imagesPerSecond - 160) < 1e-9)
        #expect(abs(now.epochSecondsLeft - 15) < 1e-9)
        #expect(abs(now.runSecondsLeft - (15 + 2 + 2 * (20 + 2))) < 1e-9)
        #expect(TrainingProgress.clock(42) == "0:42" && TrainingProgress.clock(725) == "12:05" && TrainingProgress.clock(3723) == "1:02:03")
        #expect(TrainingProgress.clock(.nan) == "–")
    }

    @Test func aStudysTimeLeftIsTheImagesToComeAtThePaceSoFar() {
        var config = TrainingConfig()
        (config.epochs, config.trainingSubset, config.validationSplit) = (5, 10_000, 1_000)
        #expect(TrainingProgress.images(of: config, available: 60_000) == 45_000)
        config.trainingSubset = nil
        #expect(TrainingProgress.images(of: config, available: 60_000) == 295_000)
        // 100,000 images in 50 s: 2,000 a second, so 300,000 more take 150 s.
        #expect(TrainingProgress.secondsLeft(done: 100_000, elapsed: 50, left: 300_000) == 150)
        #expect(TrainingProgress.secondsLeft(done: 0, elapsed: 0, left: 300_000) == nil)
    }

    @Test func loggedStepLossesAverageToTheEpochsLoss() throws {
        var config = TrainingConfig()
        (config.hidden, config.batchSize, config.epochs, config.logEvery) = ([16], 16, 2, 5)
        let trainer = try Trainer(config: config, train: Dataset.bands(count: 320, seed: 2, noise: 30), test: nil)
        let history = try trainer.run()
        #expect(history.steps.map(\.step) == [5, 10, 15, 20, 25, 30, 35, 40], "20 steps an epoch, one point every 5")
        #expect(history.steps.map(\.epoch) == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2])
        for epoch in 0..<2 {
            let mean = history.steps[(4 * epoch)..<(4 * epoch + 4)].map(\.loss).reduce(0, +) / 4
            #expect(abs(mean - history.epochs[epoch].trainLoss) < 1e-9)
        }
    }
}
