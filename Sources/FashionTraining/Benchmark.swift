import Foundation
import FashionCore
import FashionData
import FashionEngine

/// Times the notebook's MLP on this machine: training epochs with SGD and Adam at batch 32, and the
/// end-of-epoch evaluation (accuracy over the 60,000 training and 10,000 test images); optionally the `cnn`
/// recipe's training epoch. On the CPU each GEMM-bound figure comes with its throughput as a fraction of the
/// machine's FMA peak (`FMAPeak`).
public struct Benchmark {
    /// Seconds of each measured repetition and their median.
    public struct Timing: Codable, Sendable {
        public let seconds: [Double]
        public var median: Double {
            let sorted = seconds.sorted()
            return sorted.isEmpty ? .nan : (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
        }
    }

    public struct Report: Codable, Sendable {
        public let backend: String
        public let blas: String
        public let blasKernel: String?
        /// Which GEMM ran: the project's AVX-512 kernels, or the BLAS.
        public let gemm: String
        public let threads: Int
        public let hidden: Int
        public let batchSize: Int
        public let sgdEpoch: Timing
        public let adamEpoch: Timing
        public let evaluation: Timing
        /// The `cnn` recipe's training epoch (batch 64, Adam, one-cycle), when asked for.
        public let cnnEpoch: Timing?
        /// Floating-point operations per second of a register-resident FMA loop on all threads (CPU with AVX-512).
        public let peakFlops: Double?
        /// GEMM floating-point operations of each measurement (`Sequential.gemmFlopsPerImage`).
        public let gemmFlops: GEMMFlops
        /// Peak resident memory of the process so far, in megabytes.
        public let peakResidentMegabytes: Double
    }

    /// The GEMM work of one measurement, the numerator of its throughput.
    public struct GEMMFlops: Codable, Sendable {
        public let mlpEpoch: Double
        public let evaluation: Double
        public let cnnEpoch: Double?
    }

    public var repetitions = 3
    /// Also time the `cnn` recipe's training epoch.
    public var cnn = false
    public var hidden = 1000
    public var batchSize = 32
    /// Where to compute.
    public var backend = ComputeBackend.cpu

    public init() {}

    /// Runs the measurements; `progress` receives a line per measurement. Throws when the GPU fails.
    public func run(train: Dataset, test: Dataset, progress: (String) -> Void = { _ in }) throws -> Report {
        func makeTrainer(_ optimizer: OptimizerKind, _ lr: Float) throws -> Trainer {
            var config = TrainingConfig()
            config.hidden = [hidden]
            config.optimizer = optimizer
            config.learningRate = lr
            config.batchSize = batchSize
            return try Trainer(config: config, train: train, test: nil, backend: backend)
        }
        func timeTraining(_ optimizer: OptimizerKind, _ lr: Float) throws -> Timing {
            let trainer = try makeTrainer(optimizer, lr)
            let seconds = try (0..<repetitions).map { _ in
                let start = DispatchTime.now()
                _ = try trainer.trainEpoch()
                let elapsed = Self.seconds(since: start)
                progress(String(format: "%@ epoch: %.3f s", optimizer.rawValue, elapsed))
                return elapsed
            }
            return Timing(seconds: seconds)
        }
        let sgd = try timeTraining(.sgd, 0.01)
        let adam = try timeTraining(.adam, 0.001)

        let evaluator = try makeTrainer(.sgd, 0.01)
        _ = try evaluator.evaluate(on: test)  // on the GPU: sets up the device side once, outside the timing
        let evaluation = try (0..<repetitions).map { _ in
            let start = DispatchTime.now()
            _ = try evaluator.evaluate(on: train)
            _ = try evaluator.evaluate(on: test)
            let elapsed = Self.seconds(since: start)
            progress(String(format: "evaluation (60k + 10k): %.3f s", elapsed))
            return elapsed
        }
        var cnnEpoch: Timing?
        var cnnFlops: Double?
        if cnn {
            let trainer = try Trainer(config: Recipe.cnn.config, train: train, test: nil, backend: backend)
            cnnFlops = trainer.model.gemmFlopsPerImage.training * Double(train.count)
            cnnEpoch = Timing(seconds: try (0..<repetitions).map { _ in
                let start = DispatchTime.now()
                _ = try trainer.trainEpoch()
                let elapsed = Self.seconds(since: start)
                progress(String(format: "cnn recipe epoch: %.3f s", elapsed))
                return elapsed
            })
        }
        let mlp = evaluator.model.gemmFlopsPerImage
        var peak: Double?
        if case .cpu = backend { peak = FMAPeak.measure() }
        return Report(backend: backend.name, blas: BLAS.shared.library, blasKernel: BLAS.shared.kernel, gemm: BLAS.shared.summary, threads: Threads.count,
                      hidden: hidden, batchSize: batchSize, sgdEpoch: sgd, adamEpoch: adam,
                      evaluation: Timing(seconds: evaluation), cnnEpoch: cnnEpoch, peakFlops: peak,
                      gemmFlops: GEMMFlops(mlpEpoch: mlp.training * Double(train.count), evaluation: mlp.forward * Double(train.count + test.count), cnnEpoch: cnnFlops),
                      peakResidentMegabytes: Self.peakResidentMegabytes())
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// Peak resident set size of this process (Linux reports kilobytes).
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(macOS)
        return Double(usage.ru_maxrss) / 1_048_576
        #else
        return Double(usage.ru_maxrss) / 1024
        #endif
    }
}
