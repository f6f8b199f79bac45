import Foundation
import Testing
import FashionEngine
import FashionTraining

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

    @Test(arguments: [(OptimizerKind.sgd, Float(0)), (.sgd, 0.9), (.adam, 0), (.adamw, 0)])
    func gpuMatchesCPU(optimizer: OptimizerKind, momentum: Float) throws {
        let train = syntheticDataset(count: 300), test = syntheticDataset(count: 60, seed: 5)
        let cpu = try Trainer(config: config(optimizer, momentum: momentum), train: train, validation: test).run()
        for device in devices {
            let gpuTrainer = Trainer(config: config(optimizer, momentum: momentum), train: train, validation: test, backend: .cuda(device))
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
            let expected = try Trainer(config: config(.adam), train: train, validation: test, backend: .cuda(device)).run()
            let directory = NSTemporaryDirectory() + "fl-cuda-resume-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let first = Trainer(config: config(.adam), train: train, validation: test, backend: .cuda(device))
            first.checkpointDirectory = directory
            var batches = 0
            first.stopRequested = {
                batches += 1
                return batches > 19 + 7
            }
            #expect(try first.run().epochs.count == 1)
            let finished = try TrainingCheckpoint.resume(from: directory, train: train, validation: test, backend: .cuda(device)).run()
            #expect(finished.epochs.count == 3)
            // The weights follow the same path; the loss sums differ at most in their last bits (atomic adds).
            for (a, b) in zip(finished.epochs, expected.epochs) {
                #expect(abs(a.validationLoss! - b.validationLoss!) <= 1e-9 * abs(b.validationLoss!))
                #expect(a.validationAccuracy == b.validationAccuracy)
            }
        }
    }

    @Test func convolutionalModelsFallBackToTheCPU() {
        var config = TrainingConfig()
        config.model = "cnn"
        let trainer = Trainer(config: config, train: syntheticDataset(count: 64), validation: nil, backend: .cuda(devices[0]))
        #expect(trainer.backend.name == "CPU")
        #expect(trainer.backendFallback?.contains("MLPs only") == true)
    }
}
