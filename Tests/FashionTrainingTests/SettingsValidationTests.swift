import Foundation
import Testing
import FashionCore
import FashionEngine
import FashionTraining
import FashionTestSupport

/// `TrainingConfig.validate()`, the one check of settings from every source, and the files that carry settings
/// (metrics.json, model files, checkpoints) when their values lie.
@Suite struct SettingsValidationTests {
    func problem(_ change: (inout TrainingConfig) -> Void) -> SettingProblem? {
        var config = TrainingConfig()
        change(&config)
        do {
            try config.validate()
            return nil
        } catch {
            return error as? SettingProblem
        }
    }

    @Test func theNotebooksSettingsAndTheRecipesPass() throws {
        try TrainingConfig().validate()
        for recipe in Recipe.all { try recipe.config.validate() }
    }

    @Test func eachBadValueIsNamedWithItsFlagAndKey() {
        let cases: [((inout TrainingConfig) -> Void, String, String)] = [
            ({ $0.learningRate = -1 }, "--lr must be a positive number up to 1000.0, got -1.0", "learningRate"),
            ({ $0.learningRate = .nan }, "--lr must be a positive number up to 1000.0, got nan", "learningRate"),
            ({ $0.learningRate = .infinity }, "--lr must be a positive number up to 1000.0, got inf", "learningRate"),
            ({ $0.hidden = [1_000_000_000_000_000] }, "--hidden sizes must be 1 to 1000000, got 1000000000000000", "hidden"),
            ({ $0.hidden = [] }, "--hidden must list 1 to 100 layer sizes, got 0", "hidden"),
            ({ $0.batchSize = 0 }, "--batch-size must be 1 to 100000, got 0", "batchSize"),
            ({ $0.evaluationBatchSize = 0 }, "--eval-batch-size must be 1 to 100000, got 0", "evaluationBatchSize"),
            ({ $0.epochs = 9_000_000_000_000_000_000 }, "--epochs must be 1 to 100000, got 9000000000000000000", "epochs"),
            ({ $0.momentum = 1 }, "--momentum must be in [0, 1), got 1.0", "momentum"),
            ({ $0.optimizer = .adam; $0.momentum = 0.9 }, "--momentum applies to the sgd optimiser only, got 0.9 with adam", "momentum"),
            ({ $0.nesterov = true }, "--nesterov needs the sgd optimiser and a momentum above 0", "nesterov"),
            ({ $0.weightDecay = -0.1 }, "--weight-decay must be 0 to 10.0, got -0.1", "weightDecay"),
            ({ $0.schedule = .step(every: 0, gamma: 0.5) }, "--schedule step:EVERY:GAMMA needs EVERY of 1 to 100000 and GAMMA in (0, 10], got step:0:0.5", "schedule"),
            ({ $0.schedule = .oneCycle(warmup: 1.5) }, "--schedule onecycle:WARMUP needs WARMUP in (0, 1), got 1.5", "schedule"),
            ({ $0.labelSmoothing = 1 }, "--label-smoothing must be in [0, 1), got 1.0", "labelSmoothing"),
            ({ $0.trainingSubset = 0 }, "--subset must be at least 1, got 0", "trainingSubset"),
            ({ $0.normalization = .init(mean: 0.3, std: 0) }, "--normalize needs a finite mean and a positive standard deviation, got 0.3 and 0.0", "normalization"),
            ({ $0.augmentation = Augmentation(flip: true) }, "--augment needs a convolutional model (cnn, cnn-large, or a description whose input_shape is [1, 28, 28])", "augmentation"),
            ({ $0.model = .cnn; $0.augmentation = Augmentation(cropPadding: 1000) }, "--augment crop padding must be 0 to 14, got 1000", "augmentation"),
            ({ $0.model = .cnn; $0.batchSize = 100_000 }, "--batch-size 100000 is too large: a batch of 100000 image(s) of this network keeps 64522600000 values (240.4 GiB) alive in its layers' outputs; at most 1073741824 (4.0 GiB) are allowed", "batchSize"),
            ({ $0.warmup = 0 }, "--warmup must be 1 to 1000000 steps, got 0", "warmup"),
            ({ $0.schedule = .oneCycle(warmup: 0.3); $0.warmup = 10 }, "--warmup does not combine with the onecycle schedule, which warms up itself", "warmup"),
            ({ $0.model = .custom }, "", "architecture"),
        ]
        for (change, message, key) in cases {
            let found = problem(change)
            #expect(found?.key == key, "\(String(describing: found))")
            if !message.isEmpty { #expect(found?.asFlag == message) }
        }
    }

    /// `--warmup N`: step t of the run trains at (t + 1)/N of the scheduled rate, then at all of it; recorded with
    /// each epoch as the rate of its last step, and carried by the checkpoint across a resume.
    @Test func aWarmupRaisesTheRateOverItsSteps() throws {
        var config = TrainingConfig()
        (config.hidden, config.batchSize, config.epochs, config.learningRate, config.warmup) = ([16], 16, 3, 0.1, 10)
        #expect([0, 4, 9, 10, 1000].map { config.warmupFactor(step: $0) } == [0.1, 0.5, 1, 1, 1])
        let trainer = try Trainer(config: config, train: syntheticDataset(count: 64), test: nil)
        let history = try trainer.run()
        // 4 steps an epoch: the last steps of epochs 1, 2 and 3 are steps 3, 7 and 11.
        #expect(history.epochs.map(\.learningRate) == [0.1 * 0.4, 0.1 * 0.8, 0.1])
        config.warmup = nil
        #expect(config.warmupFactor(step: 0) == 1)
    }

    /// A run directory whose metrics.json carries settings that would trap or allocate terabytes is refused by name.
    @Test(arguments: [("\"hidden\":[1000]", "\"hidden\":[1000000000000000]", "config.hidden sizes must be 1 to 1000000"),
                      ("\"batchSize\":32", "\"batchSize\":0", "config.batchSize must be 1 to 100000, got 0"),
                      ("\"epochs\":1", "\"epochs\":9000000000000000000", "config.epochs must be 1 to 100000"),
                      ("\"evaluationBatchSize\":1000", "\"evaluationBatchSize\":0", "config.evaluationBatchSize must be 1 to 100000, got 0")])
    func metricsFilesThatLieAreRefused(original: String, lie: String, message: String) throws {
        var config = TrainingConfig()
        config.epochs = 1
        let history = TrainingHistory(config: config)
        let directory = TestFiles.newDirectory("lying-run")
        try RunDirectory.save(history: history, model: try config.buildModel(), to: directory)
        let path = directory + "/" + RunDirectory.metricsFile
        let compact = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: " : ", with: ":")
            .replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: " ", with: "")
        #expect(compact.contains(original), "\(compact.prefix(300))")
        try compact.replacingOccurrences(of: original, with: lie).write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: RunDirectoryError.self) { _ = try ModelFile.load(directory) }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix(path) == true)
    }

    /// BatchNorm's buffers in a checkpoint with another dtype, or a count that is NaN, are refused (they trapped).
    @Test func batchNormBuffersThatLieAreRefused() throws {
        let model = Sequential.cnn(seed: 0)
        let good = model.stateDict()
        let nan = Float.nan
        let cases: [(String, Safetensors.Entry, String)] = [
            ("1.num_batches_tracked", Safetensors.Entry(dtype: "F32", shape: [], bytes: withUnsafeBytes(of: nan) { Array($0) }),
             "tensor '1.num_batches_tracked' has dtype F32, expected I64 or I32"),
            ("1.num_batches_tracked", Safetensors.Entry(dtype: "I64", shape: [], bytes: withUnsafeBytes(of: Int64(-5)) { Array($0) }),
             "tensor '1.num_batches_tracked' holds values a count cannot have (-5.0)"),
            ("1.running_var", Safetensors.Entry(dtype: "U8", shape: [32], bytes: [UInt8](repeating: 1, count: 32)),
             "tensor '1.running_var' has dtype U8, expected F32 or F64"),
            ("1.running_mean", Safetensors.Entry(dtype: "F32", shape: [32], bytes: (0..<32).flatMap { _ in withUnsafeBytes(of: nan) { Array($0) } }),
             "tensor '1.running_mean' holds values a statistic cannot have (nan)"),
        ]
        for (name, entry, message) in cases {
            var file = good
            file.set(name, entry)
            let error = #expect(throws: SafetensorsError.self) { try Sequential.cnn(seed: 1).load(file, name: "lie.safetensors") }
            #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        }
    }
}
