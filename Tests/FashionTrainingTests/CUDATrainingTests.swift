import Foundation
import Testing
import FashionCore
@_spi(Testing) import FashionEngine
import FashionTraining
import FashionTestSupport

/// Training on the GPU agrees with the CPU: same order, same updates, so the same metrics up to float
/// rounding (cuBLAS sums in another order), and a resumed GPU run lands on the uninterrupted one. Runs on
/// every CUDA device present: a real GPU, and the host emulation of the GPU code paths where clang is.
@Suite(.enabled(if: !cudaDevices.isEmpty, "no GPU and no clang for the host emulation"))
struct CUDATrainingTests {
    var devices: [CUDADevice] { cudaDevices }

    func config(_ optimizer: OptimizerKind, momentum: Float = 0) -> TrainingConfig {
        var config = TrainingConfig()
        config.hidden = [64, 32]
        config.optimizer = optimizer
        config.learningRate = optimizer == .sgd ? 0.05 : 0.003
        config.momentum = momentum
        config.schedule = .cosine(minimum: 0)
        config.epochs = 3
        config.batchSize = 16
        config.seed = 4
        return config
    }

    /// Records the loss an observer is shown at each epoch's last batch.
    final class LastBatchLoss: TrainingObserver {
        var shown: [Float] = []
        func trainer(_ trainer: Trainer, didFinishBatch index: Int, of count: Int, loss: Float) {
            if index == count - 1 { shown.append(loss) }
        }
    }

    @Test func observersAreShownTheEpochsRunningLossOnBothBackends() throws {
        let train = syntheticDataset(count: 300)
        for backend in [ComputeBackend.cpu] + devices.map({ .cuda($0) }) {
            let observer = LastBatchLoss()
            let history = try Trainer(config: config(.adam), train: train, test: nil, backend: backend).run(observer: observer)
            #expect(observer.shown.count == history.epochs.count)
            for (shown, epoch) in zip(observer.shown, history.epochs) {
                #expect(abs(Double(shown) - epoch.trainLoss) < 1e-6 * max(1, epoch.trainLoss), "\(backend.name): \(shown) vs \(epoch.trainLoss)")
            }
        }
    }

    @Test(arguments: [(OptimizerKind.sgd, Float(0)), (.sgd, 0.9), (.adam, 0), (.adamw, 0)])
    func gpuMatchesCPU(optimizer: OptimizerKind, momentum: Float) throws {
        let train = syntheticDataset(count: 300), test = syntheticDataset(count: 60, seed: 5)
        let cpu = try Trainer(config: config(optimizer, momentum: momentum), train: train, test: test).run()
        for device in devices {
            let gpuTrainer = try Trainer(config: config(optimizer, momentum: momentum), train: train, test: test, backend: .cuda(device))
            #expect(gpuTrainer.backendFallback == nil)
            let gpu = try gpuTrainer.run()
            for (a, b) in zip(cpu.epochs, gpu.epochs) {
                #expect(abs(a.trainLoss - b.trainLoss) < 1e-4 * max(1, abs(a.trainLoss)), "epoch \(a.epoch) train loss \(a.trainLoss) vs \(b.trainLoss)")
                #expect(abs(a.validationLoss! - b.validationLoss!) < 1e-4 * max(1, abs(a.validationLoss!)))
                #expect(abs(a.trainAccuracy - b.trainAccuracy) <= 2.0 / 300)
            }
        }
    }

    @Test func interruptedAndResumedGPURunMatches() throws {
        for device in devices {
            let train = syntheticDataset(count: 300), test = syntheticDataset(count: 60, seed: 5)
            let expected = try Trainer(config: config(.adam), train: train, test: test, backend: .cuda(device)).run()
            let directory = TestFiles.newPath("cuda-resume")
            let first = try Trainer(config: config(.adam), train: train, test: test, backend: .cuda(device))
            first.checkpointDirectory = directory
            var batches = 0
            first.stopRequested = {
                batches += 1
                return batches > 19 + 7
            }
            #expect(try first.run().epochs.count == 1)
            let finished = try TrainingCheckpoint.resume(from: directory, train: train, test: test, backend: .cuda(device)).run()
            #expect(finished.epochs.count == 3)
            // The weights follow the same path; the loss sums differ at most in their last bits (atomic adds).
            for (a, b) in zip(finished.epochs, expected.epochs) {
                #expect(abs(a.validationLoss! - b.validationLoss!) <= 1e-9 * abs(b.validationLoss!))
                #expect(a.validationAccuracy == b.validationAccuracy)
            }
        }
    }

    /// Augmentation on the GPU changes images exactly as on the CPU.
    @Test func augmentationMatchesCPU() throws {
        let data = syntheticDataset(count: 50)
        let augmentation = Augmentation(flip: true, cropPadding: 3, erasing: 0.7)
        for device in devices {
            let batches = BatchIterator(dataset: data, batchSize: 50, shuffle: false, encoding: PixelEncoding(scale: true),
                                        augmentation: augmentation, generator: SeededGenerator(seed: 8))
            let (expected, _) = batches.load(batch: 0)
            let plain = BatchIterator(dataset: data, batchSize: 50, shuffle: false, encoding: PixelEncoding(scale: true))
            let (images, _) = plain.load(batch: 0)
            var generator = SeededGenerator(seed: 8)
            var changes = [Int32](repeating: 0, count: 50 * Augmentation.changeWords)
            changes.withUnsafeMutableBufferPointer { augmentation.draw(into: $0, count: 50, height: 28, width: 28, using: &generator) }
            let input = try device.allocate(images.count), output = try device.allocate(images.count)
            let changeBuffer = try device.allocate(changes.count, of: Int32.self)
            try device.upload(images.data, count: images.count, to: input)
            try changes.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: $0.count, to: changeBuffer) }
            try device.launch("augment", covering: images.count, [.buffer(output), .buffer(input), .buffer(changeBuffer), .int(50), .int(28), .int(28), .float(0)])
            let actual = Tensor(shape: images.shape)
            try device.download(output, count: actual.count, into: actual.data)
            #expect(actual.toArray() == expected.toArray())
        }
    }

    /// The CNN (convolutions, batch norm, pooling, dropout) on the GPU: the same masks and order, so the same
    /// metrics as on the CPU up to rounding; BatchNorm's running statistics come back to the host. (SGD with
    /// momentum: Adam's normalised steps magnify last-bit differences in near-zero gradients, GUIDE §4.)
    /// The CPU runs its convolutions with Winograd F(2×2, 3×3) here: F(4×4, 3×3), its default on these planes,
    /// rounds about 10× further from a direct convolution (~4e-6 of the largest output against ~5e-7), which twelve
    /// steps of training magnify to ~1% in the running statistics (~1e-4 with F(2×2)), too loose to check.
    @Test func cnnMatchesCPU() throws {
        let config = cnnConfig()
        let train = syntheticDataset(count: 120), test = syntheticDataset(count: 40, seed: 5)
        let cpuTrainer = try Trainer(config: config, train: train, test: test)
        for case let convolution as Conv2d in cpuTrainer.model.layers where convolution.algorithm == .winograd {
            convolution.winogradTile = .twoByTwo
        }
        let cpu = try cpuTrainer.run()
        for device in devices {
            let gpuTrainer = try Trainer(config: config, train: train, test: test, backend: .cuda(device))
            #expect(gpuTrainer.backendFallback == nil)
            let gpu = try gpuTrainer.run()
            for (a, b) in zip(cpu.epochs, gpu.epochs) {
                #expect(abs(a.trainLoss - b.trainLoss) < 1e-3 * max(1, abs(a.trainLoss)), "epoch \(a.epoch) train loss \(a.trainLoss) vs \(b.trainLoss)")
                #expect(abs(a.validationLoss! - b.validationLoss!) < 1e-3 * max(1, abs(a.validationLoss!)))
                #expect(abs(a.validationAccuracy! - b.validationAccuracy!) <= 1.0 / 40)
            }
            for (a, b) in zip(cpuTrainer.model.buffers, gpuTrainer.model.buffers) {
                #expect(ReferenceCheck.relativeError(b.value.toArray(), a.value.toArray()) < 1e-3, "\(a.name)")
            }
        }
    }

    /// With augmentation the GPU applies the CPU's draws (`augmentationMatchesCPU` checks the pixels), and the
    /// first epoch's loss agrees; later epochs drift apart slowly, because a crop's constant padded border
    /// gives max pooling near-ties that the two backends' roundings break differently.
    @Test func augmentedCNNTrainsLikeTheCPU() throws {
        var config = cnnConfig()
        config.augmentation = Augmentation(flip: true, cropPadding: 2, erasing: 0.5)
        config.epochs = 1
        let train = syntheticDataset(count: 120)
        let cpuTrainer = try Trainer(config: config, train: train, test: nil)
        let cpu = try cpuTrainer.run()
        for device in devices {
            let gpuTrainer = try Trainer(config: config, train: train, test: nil, backend: .cuda(device))
            let gpu = try gpuTrainer.run()
            #expect(gpuTrainer.plan.generator == cpuTrainer.plan.generator, "the same draws on both backends")
            #expect(abs(cpu.epochs[0].trainLoss - gpu.epochs[0].trainLoss) < 1e-2 * cpu.epochs[0].trainLoss)
        }
    }

    /// `evaluate`'s one pass: the test set's logits on the GPU equal the CPU's up to rounding.
    @Test func logitsMatchTheCPU() throws {
        let model = Sequential.cnn(seed: 2)
        let data = syntheticDataset(count: 70), encoding = PixelEncoding(scale: true)
        let cpu = try model.logits(on: data, encoding: encoding, batchSize: 32)
        #expect(cpu.count == 70 * 10)
        for device in devices {
            let gpu = try model.logits(on: data, encoding: encoding, batchSize: 32, backend: .cuda(device))
            #expect(ReferenceCheck.relativeError(gpu, cpu) < 1e-5)
        }
    }

    func cnnConfig() -> TrainingConfig {
        var config = TrainingConfig()
        config.model = .cnn
        config.optimizer = .sgd
        config.momentum = 0.9
        config.learningRate = 0.01
        config.batchSize = 20
        config.epochs = 2
        config.seed = 1
        return config
    }
}
