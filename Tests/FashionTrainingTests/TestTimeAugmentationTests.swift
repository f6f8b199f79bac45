import Foundation
import Testing
import FashionData
import FashionEngine
import FashionTraining

@Suite struct TestTimeAugmentationTests {
    @Test func flippingMirrorsEachRow() throws {
        let dataset = try Dataset(images: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], labels: [3, 7], rows: 2, cols: 3)
        let flipped = dataset.horizontallyFlipped()
        #expect(flipped.images == [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10])
        #expect(flipped.labels == dataset.labels && flipped.imageShape == dataset.imageShape)
    }

    @Test func flipAveragesTheProbabilitiesOfAnImageAndItsMirrorImage() throws {
        let dataset = syntheticDataset(count: 40, seed: 3)
        let model = Sequential.mlp(inputs: dataset.pixelsPerImage, hidden: [32], classes: 10, seed: 1)
        let encoding = PixelEncoding(scale: true)
        let plain = try model.logits(on: dataset, encoding: encoding, batchSize: 16)
        let mirrored = try model.logits(on: dataset.horizontallyFlipped(), encoding: encoding, batchSize: 16)
        #expect(plain != mirrored, "the bands are not symmetric, so the mirror images must score differently")
        let averaged = try model.logits(on: dataset, encoding: encoding, batchSize: 16, testTimeAugmentation: .flip)
        let p = Sequential.softmax(plain, classes: 10), q = Sequential.softmax(mirrored, classes: 10)
        for (row, logProbabilities) in Sequential.softmax(averaged, classes: 10).enumerated() {
            for c in 0..<10 { #expect(abs(logProbabilities[c] - (p[row][c] + q[row][c]) / 2) < 1e-6) }
        }
        #expect(try model.logits(on: dataset, encoding: encoding, batchSize: 16, testTimeAugmentation: .none) == plain)
    }
}
