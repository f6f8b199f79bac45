import FashionCore
import FashionData
import FashionEngine
import FashionTestSupport
import FashionTraining
import Foundation
import Testing

/// `nn.LeakyReLU` as a user writes it against `Layer`, with its description and its layer type.
final class LeakyReLU: DescribedLayer {
    let slope: Float
    private var input: Tensor?
    init(slope: Float) { self.slope = slope }

    func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    var summary: String { "LeakyReLU(negative_slope=\(slope))" }

    func forward(_ x: Tensor, training: Bool) -> Tensor {
        input = x
        return Tensor(shape: x.shape, values: x.toArray().map { $0 > 0 ? $0 : slope * $0 })
    }

    func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let (x, g) = (input!.toArray(), dy.toArray())
        return Tensor(shape: dy.shape, values: g.indices.map { x[$0] > 0 ? g[$0] : slope * g[$0] })
    }

    var layerDescription: LayerDescription { LayerDescription(type: Self.layerType.name, arguments: ["negative_slope": .decimal(slope)]) }
    static let layerType = LayerType(
        name: "LeakyReLU", settings: [LayerSetting("negative_slope", .number, default: .value(.number(0.01)))],
        check: { _, input in LayerShape(output: input) },
        make: { description, _, _ in LeakyReLU(slope: Float(description.number("negative_slope"))) })
}

/// The same layer, never registered.
final class UnregisteredLayer: DescribedLayer {
    func forward(_ x: Tensor, training: Bool) -> Tensor { x }
    func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? { dy }
    func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    var summary: String { "Unregistered()" }
    var layerDescription: LayerDescription { LayerDescription(type: "Unregistered") }
}

/// A layer of one's own: registered, a run with it saves, reloads and resumes with its description; not
/// registered, it is refused before training, saying how to register it (never saved as another network).
@Suite(.serialized) struct OwnLayerTests {
    static let registered: Void = { try! ModelDescription.register(LeakyReLU.layerType) }()

    func network(_ middle: Layer, seed: UInt64 = 3) -> Sequential {
        var generator = SeededGenerator(seed: seed)
        return Sequential(inputShape: [784], [Linear(784, 16, using: &generator), middle, Linear(16, 10, using: &generator)])
    }

    @Test func aRegisteredLayerOfOnesOwnSavesReloadsAndResumes() throws {
        _ = Self.registered
        let (train, test) = (Dataset.bands(count: 256), Dataset.bands(count: 64, seed: 1))
        var config = TrainingConfig()
        config.epochs = 2
        let directory = TestFiles.newDirectory("own-layer")

        let trainer = try Trainer(model: network(LeakyReLU(slope: 0.2)), config: config, train: train, test: test)
        #expect(trainer.config.model == .custom)
        #expect(trainer.config.architecture?.layers[1] == LayerDescription(type: "LeakyReLU", arguments: ["negative_slope": .decimal(0.2)]))
        trainer.checkpointDirectory = directory
        trainer.stopRequested = { trainer.history.epochs.count == 1 }   // stop after the first epoch, as Ctrl-C would
        _ = try trainer.run()
        try RunDirectory.save(history: trainer.history, model: trainer.model, to: directory)

        let (model, saved) = try ModelFile.load(directory + "/" + RunDirectory.modelFile)
        #expect((model.layers[1] as? LeakyReLU)?.slope == 0.2)
        #expect(saved == trainer.config)
        #expect(model.weightsDigest == trainer.model.weightsDigest)

        let resumed = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        #expect((resumed.model.layers[1] as? LeakyReLU)?.slope == 0.2)
        let history = try resumed.run()
        #expect(history.epochs.count == 2 && !history.interrupted)
        let whole = try Trainer(model: network(LeakyReLU(slope: 0.2)), config: config, train: train, test: test)
        _ = try whole.run()
        #expect(resumed.model.weightsDigest == whole.model.weightsDigest, "resuming is bit-identical")
    }

    @Test func anUnregisteredLayerIsRefusedBeforeTrainingSayingHowToRegisterIt() throws {
        _ = Self.registered
        let (train, test) = (Dataset.bands(count: 64), Dataset.bands(count: 16, seed: 1))
        let error = #expect(throws: ModelDescriptionError.self) {
            try Trainer(model: network(UnregisteredLayer()), config: TrainingConfig(), train: train, test: test)
        }
        #expect(error?.message.contains("layer 1 (Unregistered): is not a registered layer type") == true, "\(String(describing: error))")
        #expect(error?.message.contains("ModelDescription.register(_:)") == true)
        #expect(throws: ModelDescriptionError.self) { try ModelDescription.register(LeakyReLU.layerType) }
        #expect(throws: ModelDescriptionError.self) { try ModelDescription.register(ReLU.layerType) }
    }
}
