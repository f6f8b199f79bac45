import FashionCore
import FashionData
import FashionEngine
import FashionInterop
import FashionTestSupport
import FashionTraining
import Foundation
import Testing

/// The real Fashion-MNIST, where it is installed (the consumer tests predict all 10,000 test images).
let fashionMNIST: FashionMNISTData? = try? FashionMNISTLoader.load(directory: "/usr/share/datasets/fashion-mnist")

/// What `scripts/check_onnx.py` printed for one model.
struct ConsumerVerdict: Decodable {
    let images: Int
    let agreeing: Int
    let maxLogitDifference: Double
    let maxAbsLogit: Double
    let classNames: [String]?
    let accuracyOnnxruntime: Double?
    let accuracyFashionlab: Double?

    enum CodingKeys: String, CodingKey {
        case images, agreeing
        case maxLogitDifference = "max_logit_difference", maxAbsLogit = "max_abs_logit", classNames = "class_names"
        case accuracyOnnxruntime = "accuracy_onnxruntime", accuracyFashionlab = "accuracy_fashionlab"
    }
}

/// A network of every pooling kind (`AvgPool2d`, `MaxPool2d`, global average pooling), a strided convolution, both
/// batch normalisations and dropout, as a user writes it in a JSON file.
let poolingNetworkJSON = """
    {"input_shape": [1, 28, 28], "layers": [
      {"type": "Conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3, "padding": 1},
      {"type": "BatchNorm2d", "num_features": 8},
      {"type": "ReLU"},
      {"type": "AvgPool2d", "kernel_size": 2},
      {"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1},
      {"type": "ReLU"},
      {"type": "MaxPool2d", "kernel_size": 2},
      {"type": "AdaptiveAvgPool2d", "output_size": 1},
      {"type": "Flatten"},
      {"type": "Dropout", "p": 0.2},
      {"type": "Linear", "in_features": 16, "out_features": 32},
      {"type": "BatchNorm1d", "num_features": 32},
      {"type": "ReLU"},
      {"type": "Linear", "in_features": 32, "out_features": 10}
    ]}
    """

/// The consumer tests need onnxruntime and ONNX's checker, and the real test set.
let needsConsumers = ConditionTrait.enabled(if: fashionMNIST != nil && ConsumerPython.has("onnxruntime", "onnx"),
                                             Comment(rawValue: ConsumerPython.missing("onnxruntime", "onnx") + " and the real Fashion-MNIST"))

@Suite("ONNX export", .serialized)
struct ONNXExportTests {
    /// The largest |logit difference| allowed between onnxruntime and FashionLab, relative to the largest |logit|:
    /// both compute in float32, in different orders (FashionLab's GEMMs and Winograd convolutions, onnxruntime's
    /// MLAS), so they agree to a few units of float32 rounding, far below what could change a class.
    static let relativeTolerance = 1e-4

    /// Trains `config` briefly on the first 3,000 real training images, saves the run, exports it, and has onnxruntime
    /// predict all 10,000 real test images from raw pixels; returns what the consumer script printed.
    func exportAndCompare(_ label: String, _ settings: TrainingConfig, data: FashionMNISTData) throws -> ConsumerVerdict {
        var config = settings
        config.epochs = 1
        config.trainingSubset = 3_000
        let trainer = try Trainer(config: config, train: data.train, test: nil)
        let history = try trainer.run()
        let run = TestFiles.newDirectory("onnx-\(label)")
        try RunDirectory.save(history: history, model: trainer.model, to: run)

        let summary = try ONNXExport.export(from: run)
        #expect(summary.path == run + "/model.onnx")
        #expect(FileManager.default.fileExists(atPath: summary.path))

        // FashionLab's own logits, from the saved run as `evaluate` loads it.
        let (model, loaded) = try ModelFile.load(run)
        let logits = try model.logits(on: data.test, encoding: loaded.encoding)
        let images = run + "/images.u8", labels = run + "/labels.u8", ours = run + "/logits.f32"
        try Data(data.test.images).write(to: URL(fileURLWithPath: images))
        try Data(data.test.labels).write(to: URL(fileURLWithPath: labels))
        try logits.withUnsafeBufferPointer { try Data(buffer: $0).write(to: URL(fileURLWithPath: ours)) }

        let script = ConsumerPython.repositoryRoot + "/scripts/check_onnx.py"
        let (status, output) = try ConsumerPython.run([script, summary.path, "--images", images, "--logits", ours, "--labels", labels])
        print("ONNX export \(label): \(output)")
        #expect(status == 0, "check_onnx.py failed: \(output)")
        #expect(output.contains("onnx.checker: ok"), "\(output)")
        let line = try #require(output.split(separator: "\n").last(where: { $0.hasPrefix("{") }), "no JSON line in \(output)")
        return try JSONDecoder().decode(ConsumerVerdict.self, from: Data(line.utf8))
    }

    func expectAgreement(_ verdict: ConsumerVerdict) {
        #expect(verdict.images == 10_000)
        #expect(verdict.agreeing == 10_000, "onnxruntime and FashionLab disagree on \(10_000 - verdict.agreeing) images")
        #expect(verdict.maxLogitDifference <= Self.relativeTolerance * max(1, verdict.maxAbsLogit),
                "largest |logit difference| \(verdict.maxLogitDifference) for logits up to \(verdict.maxAbsLogit)")
        #expect(verdict.classNames == FashionMNIST.classNames)
        #expect(verdict.accuracyOnnxruntime == verdict.accuracyFashionlab)
    }

    @Test("the notebook's MLP (scaled inputs) predicts all 10,000 test images in onnxruntime as in FashionLab",
          needsConsumers)
    func mlp() throws {
        var config = TrainingConfig()
        config.optimizer = .adam
        config.learningRate = 0.001
        let verdict = try exportAndCompare("mlp", config, data: fashionMNIST!)
        expectAgreement(verdict)
        #expect(try #require(verdict.accuracyOnnxruntime) > 0.7)
    }

    @Test("the cnn recipe's network (normalised inputs, batch normalisation, dropout) agrees on all 10,000 test images",
          needsConsumers)
    func cnn() throws {
        let data = fashionMNIST!
        var config = Recipe.cnn.config
        config.normalization = .measured(on: data.train, scale: true)
        let verdict = try exportAndCompare("cnn", config, data: data)
        expectAgreement(verdict)
        #expect(try #require(verdict.accuracyOnnxruntime) > 0.6)
    }

    @Test("a JSON network with AvgPool2d, MaxPool2d, global pooling and BatchNorm1d (unscaled inputs) agrees on all 10,000 test images",
          needsConsumers)
    func poolingNetwork() throws {
        var config = TrainingConfig()
        config.model = .custom
        config.architecture = try ModelDescription.parse(Data(poolingNetworkJSON.utf8), name: "pooling.json")
        config.optimizer = .adam
        config.learningRate = 0.003
        config.batchSize = 64
        config.scale = false
        let verdict = try exportAndCompare("pooling", config, data: fashionMNIST!)
        expectAgreement(verdict)
        #expect(try #require(verdict.accuracyOnnxruntime) > 0.3)
    }

    @Test("export errors name the file: a missing one, and a run whose model file is not a model")
    func errorsNameTheFile() throws {
        let missing = TestFiles.newPath("nothing", extension: "safetensors")
        #expect { try ONNXExport.export(from: missing) } throws: { "\($0)".contains(missing) }

        let garbage = TestFiles.newPath("garbage", extension: "safetensors")
        try Data("not a safetensors file".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect { try ONNXExport.export(from: garbage) } throws: { "\($0)".contains(garbage) }
        #expect(!FileManager.default.fileExists(atPath: ONNXExport.defaultOutput(for: garbage)))
    }

    @Test("the encoding is the graph's first nodes, and the file parses back with its class names")
    func encodingNodes() throws {
        let model = Sequential.mlp(hidden: [16], seed: 1)
        let encoding = PixelEncoding(scale: true, normalization: .init(mean: 0.25, std: 0.5))
        let data = try ONNXExport.serialized(model, encoding: encoding, classNames: FashionMNIST.classNames, source: "mlp")
        let file = TestFiles.newPath("mlp", extension: "onnx")
        try data.write(to: URL(fileURLWithPath: file))
        let operations = try ONNXExport.operations(inFile: file)
        #expect(operations == ["Div", "Sub", "Div", "Gemm", "Relu", "Gemm", "Identity"])
        let unscaled = try ONNXExport.serialized(model, encoding: PixelEncoding(scale: false), classNames: FashionMNIST.classNames, source: "mlp")
        try unscaled.write(to: URL(fileURLWithPath: file))
        #expect(try ONNXExport.operations(inFile: file) == ["Gemm", "Relu", "Gemm", "Identity"])
        #expect(throws: ONNXError.self) {
            try ONNXExport.serialized(model, encoding: encoding, classNames: ["one", "two"], source: "mlp")
        }
    }
}

/// A layer type of one's own, registered, that ONNX export has no form for: `x · 2`.
final class DoublingLayer: DescribedLayer {
    func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    var summary: String { "Doubling()" }
    func forward(_ x: Tensor, training: Bool) -> Tensor { Tensor(shape: x.shape, values: x.toArray().map { $0 * 2 }) }
    func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? { Tensor(shape: dy.shape, values: dy.toArray().map { $0 * 2 }) }
    var layerDescription: LayerDescription { LayerDescription(type: "ONNXTestDoubling") }
    static let layerType = LayerType(name: "ONNXTestDoubling", settings: [], check: { _, input in LayerShape(output: input) },
                                     make: { _, _, _ in DoublingLayer() })
}

extension ONNXExportTests {
    @Test("a registered layer of one's own has no ONNX form: export refuses the model, naming the layer")
    func ownLayerIsRefused() throws {
        if ModelDescription.layerType(named: DoublingLayer.layerType.name) == nil { try ModelDescription.register(DoublingLayer.layerType) }
        var generator = SeededGenerator(seed: 1)
        let model = Sequential(inputShape: [784], [Linear(784, 10, using: &generator), DoublingLayer()])
        #expect { try ONNXExport.serialized(model, encoding: PixelEncoding(scale: true), classNames: FashionMNIST.classNames, source: "own.safetensors") }
            throws: { "\($0)" == "own.safetensors: layer 1 (ONNXTestDoubling) has no ONNX form in FashionLab's exporter" }
    }
}
