import Foundation
import Testing
import FashionCore
import FashionData
import FashionEngine
import FashionTraining

@Suite struct PixelEncodingTests {
    @Test func normalisationFollowsScaling() {
        let table = PixelEncoding(scale: true, normalization: .init(mean: 0.25, std: 0.5)).table
        for byte in [0, 1, 128, 255] { #expect(table[byte] == (Float(byte) / 255 - 0.25) / 0.5) }
        #expect(PixelEncoding(scale: false).table[200] == 200)
    }

    @Test func measuredMeanAndStandardDeviation() throws {
        // Half the pixels 0, half 255: mean 0.5, standard deviation 0.5 after scaling.
        let images = (0..<(4 * 784)).map { UInt8($0 % 2 == 0 ? 0 : 255) }
        let dataset = try Dataset(images: images, labels: [0, 1, 2, 3], rows: 28, cols: 28)
        let measured = PixelEncoding.Normalization.measured(on: dataset, scale: true)
        #expect(abs(measured.mean - 0.5) < 1e-6 && abs(measured.std - 0.5) < 1e-6)
        let raw = PixelEncoding.Normalization.measured(on: dataset, scale: false)
        #expect(abs(raw.mean - 127.5) < 1e-3 && abs(raw.std - 127.5) < 1e-3)
    }
}

@Suite struct AugmentationTests {
    /// Eight distinct 6×5 images with values 1…30 (+ 100·image), to tell where each pixel went.
    func images(_ count: Int = 8) -> [Float] {
        (0..<count).flatMap { image in (0..<30).map { Float(image * 100 + $0 + 1) } }
    }

    func apply(_ augmentation: Augmentation, to values: [Float], seed: UInt64 = 1) -> [Float] {
        var copy = values
        var generator = SeededGenerator(seed: seed)
        copy.withUnsafeMutableBufferPointer {
            augmentation.apply(to: $0.baseAddress!, count: values.count / 30, height: 6, width: 5, black: -1, using: &generator)
        }
        return copy
    }

    @Test func flipMirrorsAboutHalfTheImages() {
        let original = images(64)
        let flipped = apply(Augmentation(flip: true), to: original)
        var mirrored = 0
        for image in 0..<64 {
            let before = Array(original[(image * 30)..<(image * 30 + 30)])
            let after = Array(flipped[(image * 30)..<(image * 30 + 30)])
            let mirror = (0..<6).flatMap { row in before[(row * 5)..<(row * 5 + 5)].reversed() }
            #expect(after == before || after == mirror)
            if after == mirror { mirrored += 1 }
        }
        #expect(mirrored > 16 && mirrored < 48, "\(mirrored) of 64 mirrored")
    }

    @Test func cropShiftsWithinAPaddedFrame() {
        let original = images()
        let cropped = apply(Augmentation(cropPadding: 2), to: original)
        var shifted = 0
        for image in 0..<8 {
            let before = Array(original[(image * 30)..<(image * 30 + 30)])
            let after = Array(cropped[(image * 30)..<(image * 30 + 30)])
            // Some shift (dy, dx) in −2…2 explains every pixel: a source pixel or the padding value.
            let explained = (-2...2).contains { dy in
                (-2...2).contains { dx in
                    (0..<6).allSatisfy { y in
                        (0..<5).allSatisfy { x in
                            let (sy, sx) = (y + dy, x + dx)
                            let expected: Float = sy >= 0 && sy < 6 && sx >= 0 && sx < 5 ? before[sy * 5 + sx] : -1
                            return after[y * 5 + x] == expected
                        }
                    }
                }
            }
            #expect(explained)
            if after != before { shifted += 1 }
        }
        #expect(shifted > 0)
    }

    @Test func erasingZeroesOneRectangle() {
        let original = images(32)
        let erased = apply(Augmentation(erasing: 1), to: original)
        var changedImages = 0
        for image in 0..<32 {
            let after = Array(erased[(image * 30)..<(image * 30 + 30)])
            let zeros = (0..<30).filter { after[$0] == 0 }
            // Every other pixel is unchanged, and the zeros form a filled rectangle.
            #expect((0..<30).allSatisfy { after[$0] == 0 || after[$0] == original[image * 30 + $0] })
            guard !zeros.isEmpty else { continue }
            changedImages += 1
            let rows = zeros.map { $0 / 5 }, columns = zeros.map { $0 % 5 }
            let area = (rows.max()! - rows.min()! + 1) * (columns.max()! - columns.min()! + 1)
            #expect(area == zeros.count)
            #expect(zeros.count < 30)
        }
        #expect(changedImages > 16)
    }

    @Test func sameSeedSameAugmentationAndOffByDefault() {
        let augmentation = Augmentation(flip: true, cropPadding: 2, erasing: 0.5)
        #expect(apply(augmentation, to: images(), seed: 7) == apply(augmentation, to: images(), seed: 7))
        #expect(apply(augmentation, to: images(), seed: 7) != apply(augmentation, to: images(), seed: 8))
        #expect(Augmentation().isIdentity)
        // Evaluation batches never augment: the iterator drops an identity augmentation and evaluation has none.
        let dataset = syntheticDataset(count: 4)
        let plain = BatchIterator(dataset: dataset, batchSize: 4, shuffle: false, encoding: PixelEncoding(scale: false))
        #expect(plain.load(batch: 0).inputs.toArray() == dataset.images.map(Float.init))
    }

    @Test func runningTrainingAccuracyIsMeasuredWhileTraining() throws {
        var config = TrainingConfig()
        config.hidden = [16]
        config.optimizer = .adam
        config.learningRate = 0.003
        config.epochs = 3
        config.trainingMetrics = .batches
        let trainer = try Trainer(config: config, train: syntheticDataset(count: 200), test: nil)
        let history = try trainer.run()
        let accuracy = try #require(history.epochs.last?.trainAccuracy)
        // A multiple of 1/200 (counted over the epoch's samples), and the synthetic bands are learnt.
        #expect(abs(accuracy * 200 - (accuracy * 200).rounded()) < 1e-9)
        #expect(accuracy > 0.5)
    }
}
