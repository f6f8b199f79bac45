import Foundation
import Testing
import FashionCore
import FashionData
import FashionEngine
import FashionTraining

@Suite struct LearningRateFinderTests {
    @Test func theRateGrowsExponentiallyFromStartToEnd() {
        let finder = LearningRateFinder(start: 1e-6, end: 1, steps: 7)
        #expect(finder.rate(step: 0) == 1e-6)
        #expect(abs(finder.rate(step: 6) - 1) < 1e-6)
        #expect(abs(finder.rate(step: 3) / finder.rate(step: 2) - 10) < 1e-3, "a decade every step here")
    }

    /// A made-up curve: flat, a fall that is steepest between 1e-3 and 1e-2, the minimum at 1e-1, then an explosion.
    @Test func suggestionsAreTheSteepestFallAndAMinimumDividedByTen() {
        let rates: [Float] = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10]
        let losses = [2.3, 2.3, 2.2, 2.0, 1.0, 0.8, 3.0, .infinity]
        let points = zip(rates, losses).map { LearningRateFinder.Point(learningRate: $0, loss: $1, smoothedLoss: $1) }
        let (steepest, minimum) = LearningRateFinder.suggestions(points)
        #expect(steepest == 1e-3 || steepest == 1e-2, "\(String(describing: steepest))")
        #expect(minimum == 1e-1)
    }

    @Test func theTestStopsWhenTheLossExplodes() throws {
        // Softmax regression on raw 0…255 pixels: no ReLU to die, so a large rate blows the loss up.
        var config = TrainingConfig()
        (config.batchSize, config.scale, config.model) = (16, false, .custom)
        config.architecture = try ModelDescription.parse(Data(#"{"input_shape": [784], "layers": [{"type": "Linear", "in_features": 784, "out_features": 10}]}"#.utf8), name: "test")
        // Noise with random labels: nothing to learn, so a large rate only throws the weights about.
        var generator = SeededGenerator(seed: 5)
        let train = try Dataset(images: (0..<(320 * 784)).map { _ in UInt8(truncatingIfNeeded: generator.next()) },
                                labels: (0..<320).map { _ in UInt8(generator.next() % 10) }, rows: 28, cols: 28)
        let result = try LearningRateFinder(start: 1e-6, end: 100, steps: 300).run(config: config, train: train)
        #expect(result.points.count < 300, "stopped before the end of the ramp")
        #expect(result.stoppedEarly?.contains("exploded") == true)
        let suggested = try #require(result.minimumDividedBy10)
        #expect(suggested > 1e-6 && suggested < 100)
        #expect(result.points.map(\.learningRate) == result.points.indices.map { LearningRateFinder(start: 1e-6, end: 100, steps: 300).rate(step: $0) })
    }
}
