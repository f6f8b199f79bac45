import Foundation
import Testing
import FashionCore
import FashionEngine
import FashionTestSupport
import FashionTraining

/// Model descriptions in the settings and the checkpoints: `ModelKind`, `architecture`, the `fashionlab_model`
/// metadata and loading from it.
struct ModelDescriptionConfigTests {
    static let custom = ModelDescription(inputShape: [1, 28, 28], layers: [
        .conv2d(1, 4, kernelSize: 3, padding: 1), .relu, .maxPool2d(2), .flatten, .dropout(0.1), .linear(784, 10),
    ])

    @Test func modelKindsEncodeAsTheOldStrings() throws {
        for (kind, name) in [(ModelKind.mlp, "mlp"), (.cnn, "cnn"), (.cnnLarge, "cnn-large"), (.custom, "custom")] {
            var config = TrainingConfig()
            config.model = kind
            if kind == .custom { config.architecture = Self.custom }
            let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
            #expect(json.contains("\"model\":\"\(name)\""), "\(json)")
            #expect(try JSONDecoder().decode(TrainingConfig.self, from: Data(json.utf8)) == config)
        }
        #expect(TrainingConfig.models == ["mlp", "cnn", "cnn-large"])
    }

    @Test func settingsBuildThroughDescriptions() throws {
        var config = TrainingConfig()
        config.seed = 4
        config.hidden = [32]
        #expect(try config.buildModel().weightsDigest == Sequential.mlp(hidden: [32], seed: 4).weightsDigest)
        #expect(!config.isConvolutional)
        config.model = .cnn
        #expect(try config.buildModel().weightsDigest == Sequential.cnn(seed: 4).weightsDigest)
        #expect(config.isConvolutional)
        config.model = .custom
        #expect(throws: ModelDescriptionError.self) { _ = try config.buildModel() }
        config.architecture = Self.custom
        #expect(config.isConvolutional)
        #expect(try config.buildModel().weightsDigest == Sequential(description: Self.custom, seed: 4).weightsDigest)
        #expect(config.network == "custom (1 Conv2d, 1 Linear; 7,890 parameters)")
        #expect(config.summary.hasPrefix("custom (1 Conv2d, 1 Linear; 7,890 parameters), sgd lr 0.01"))
    }

    @Test func everyCheckpointStoresItsDescriptionAndLoadsFromItAlone() throws {
        var config = TrainingConfig()
        config.model = .custom
        config.architecture = Self.custom
        config.seed = 9
        let model = try config.buildModel()
        let directory = TestFiles.newDirectory("described")
        try RunDirectory.save(history: TrainingHistory(config: config), model: model, to: directory)
        let file = try Safetensors.read(directory + "/" + RunDirectory.modelFile)
        #expect(file.metadata[ModelDescription.metadataKey] == Self.custom.json())
        let (loaded, loadedConfig) = try ModelFile.load(directory)
        #expect(loaded.weightsDigest == model.weightsDigest && loadedConfig.architecture == Self.custom)

        // A file with the description and no settings: the network comes from the description.
        let bare = directory + "/bare.safetensors"
        try model.stateDict(metadata: ["format": "pt", ModelDescription.metadataKey: Self.custom.json()]).write(to: bare)
        let (rebuilt, rebuiltConfig) = try ModelFile.load(bare)
        #expect(rebuilt.weightsDigest == model.weightsDigest)
        #expect(rebuiltConfig.model == .custom && rebuiltConfig.architecture == Self.custom)

        // Built-in models store theirs too.
        let mlpDirectory = TestFiles.newDirectory("described-mlp")
        var mlp = TrainingConfig()
        mlp.hidden = [16]
        try RunDirectory.save(history: TrainingHistory(config: mlp), model: try mlp.buildModel(), to: mlpDirectory)
        #expect(try Safetensors.read(mlpDirectory + "/" + RunDirectory.modelFile).metadata[ModelDescription.metadataKey] == ModelDescription.mlp(hidden: [16]).json())

        // Weights that do not fit the description: the error names the tensor.
        let wrong = directory + "/wrong.safetensors"
        let other = ModelDescription(inputShape: [784], layers: [.linear(784, 10)])
        try model.stateDict(metadata: [ModelDescription.metadataKey: other.json()]).write(to: wrong)
        let error = #expect(throws: SafetensorsError.self) { _ = try ModelFile.load(wrong) }
        #expect(error?.description.contains("unexpected tensor '5.weight'") == true, "\(String(describing: error))")

        // A description that is not valid: the error names the file and the layer.
        let invalid = directory + "/invalid.safetensors"
        try model.stateDict(metadata: [ModelDescription.metadataKey: #"{"input_shape": [784], "layers": [{"type": "Linear", "in_features": 700, "out_features": 10}]}"#]).write(to: invalid)
        let invalidError = #expect(throws: ModelDescriptionError.self) { _ = try ModelFile.load(invalid) }
        #expect(invalidError?.description == "\(invalid): fashionlab_model: layer 0 (Linear): in_features 700 does not match its input, 784 values ([784])")
    }

    /// A network of few parameters whose every layer stays within the per-layer bound, but which keeps many
    /// such outputs alive: a 1×1 convolution on a padded image (64 × 428 × 428 values, 128 parameters), then
    /// `relus` ReLUs, then global pooling down to 10 classes. Its file is a few kilobytes.
    static func wide(relus: Int) -> ModelDescription {
        ModelDescription(inputShape: [1, 28, 28], layers: [.conv2d(1, 64, kernelSize: 1, padding: 200)]
            + Array(repeating: .relu, count: relus) + [.adaptiveAvgPool2d, .flatten, .linear(64, 10)])
    }

    /// The working memory a description implies — every output kept for the backward pass, times the batch —
    /// is bounded before anything is allocated: per image by the description itself, per batch by the settings
    /// that load it (`train`, `evaluate`, `predict` and `serve` all go through them), the error naming the file
    /// and the figure.
    @Test func workingMemoryIsBoundedOverAllLayersAndTheBatch() throws {
        let perImage = 784 + 64 * 428 * 428 * 11 + 428 * 428 + 64 + 64 + 10  // + the convolution's unrolled columns
        #expect(try Self.wide(relus: 10).validate().workingValuesPerImage == perImage)

        let tooDeep = #expect(throws: ModelDescriptionError.self) { try Self.wide(relus: 100).validate() }
        #expect(tooDeep?.description == "layer 91 (ReLU): with it, one image keeps more than 1073741824 values (4.0 GiB) alive in the layers' outputs, the most allowed")

        var config = TrainingConfig()
        config.model = .custom
        config.architecture = Self.wide(relus: 10)
        config.batchSize = 1
        config.evaluationBatchSize = 1
        try config.validate()
        let file = TestFiles.newDirectory("wide") + "/wide.safetensors"
        let model = try Sequential(description: Self.wide(relus: 10), seed: 1)
        try model.stateDict(metadata: [ModelDescription.metadataKey: Self.wide(relus: 10).json()]).write(to: file)
        let error = #expect(throws: RunDirectoryError.self) { _ = try ModelFile.load(file) }
        #expect(error?.description == "\(file): the settings in its metadata: batchSize 32 is too large: a batch of 32 image(s) of this network keeps \(perImage * 32) values (15.4 GiB) alive in its layers' outputs; at most 1073741824 (4.0 GiB) are allowed")
    }

    @Test func anInterruptedCustomNetworkResumesBitIdentical() throws {
        var config = TrainingConfig()
        config.model = .custom
        config.architecture = Self.custom
        config.optimizer = .adam
        config.learningRate = 0.003
        config.epochs = 3
        config.batchSize = 16
        config.seed = 2
        let train = syntheticDataset(count: 160), test = syntheticDataset(count: 40, seed: 5)
        let uninterrupted = try Trainer(config: config, train: train, test: test)
        try uninterrupted.run()

        let directory = TestFiles.newPath("resume-custom")
        let first = try Trainer(config: config, train: train, test: test)
        first.checkpointDirectory = directory
        var batches = 0
        first.stopRequested = {
            batches += 1
            return batches > 10 + 4   // in the middle of the second epoch (10 batches each)
        }
        #expect(try first.run().interrupted)
        let checkpoint = try Safetensors.read(directory + "/" + RunDirectory.checkpointFile)
        #expect(checkpoint.metadata[ModelDescription.metadataKey] == Self.custom.json())
        let resumed = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        try resumed.run()
        #expect(resumed.model.weightsDigest == uninterrupted.model.weightsDigest)
    }
}
