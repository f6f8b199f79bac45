import FashionCore
import FashionData
import FashionEngine
import FashionInterop
import FashionTestSupport
import FashionTraining
import Foundation
import Testing

/// What `scripts/make_onnx_fixtures.py` recorded for one model PyTorch exported.
struct PyTorchONNXReference: Decodable {
    struct Model: Decodable {
        let file: String
        let images: Int
        let pytorchCorrect: Int
        let onnxruntimeCorrect: Int
        enum CodingKeys: String, CodingKey {
            case file, images, pytorchCorrect = "pytorch_correct", onnxruntimeCorrect = "onnxruntime_correct"
        }
    }
    let torch: String
    let models: [String: Model]
}

@Suite("ONNX import")
struct ONNXImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let reference: PyTorchONNXReference? = {
        guard let data = FileManager.default.contents(atPath: fixtures + "/pytorch_onnx_reference.json") else { return nil }
        return try? JSONDecoder().decode(PyTorchONNXReference.self, from: data)
    }()

    /// Correct predictions of the model in `file` on all 10,000 real test images, loaded as `evaluate` loads it.
    func fashionLabCorrect(_ file: String, test: Dataset) throws -> (correct: Int, config: TrainingConfig, model: Sequential) {
        let (model, config) = try ModelFormats.load(file)
        let logits = try model.logits(on: test, encoding: config.encoding)
        var correct = 0
        for image in 0..<test.count {
            let row = logits[(image * 10)..<(image * 10 + 10)]
            if row.firstIndex(of: row.max()!)! - row.startIndex == Int(test.labels[image]) { correct += 1 }
        }
        return (correct, config, model)
    }

    /// The fixtures' layers as FashionLab reads them: `cnn` as PyTorch exports it by default (each BatchNorm2d folded
    /// into the Conv before it; the BatchNorm1d after a Linear stays), `cnn_batchnorm` the same model exported with its BatchNormalization nodes.
    static let expectedLayers = [
        "mlp": ["Flatten", "Linear", "ReLU", "Linear"],
        "cnn": ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "AvgPool2d", "Conv2d", "ReLU", "AdaptiveAvgPool2d", "Flatten",
                "Linear", "BatchNorm1d", "ReLU", "Linear"],
        "cnn_batchnorm": ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU", "AvgPool2d", "Conv2d", "ReLU",
                          "AdaptiveAvgPool2d", "Flatten", "Linear", "BatchNorm1d", "ReLU", "Linear"],
    ]

    /// `mlp` was exported bare, trained on pixels / 255, its encoding written into the metadata; `cnn` (Conv2d,
    /// BatchNorm, MaxPool2d, AvgPool2d, global pooling, Dropout) with its normalisation as its first module (Div,
    /// Sub, Div), twice: as PyTorch exports it by default and with its BatchNormalization nodes kept.
    @Test("a model PyTorch exported to ONNX has PyTorch's test accuracy in FashionLab, to the image",
          .enabled(if: fashionMNIST != nil, "needs the real Fashion-MNIST"), arguments: ["mlp", "cnn", "cnn_batchnorm"])
    func pytorchExport(_ name: String) throws {
        let expected = try #require(Self.reference?.models[name])
        let (correct, config, model) = try fashionLabCorrect(Self.fixtures + "/" + expected.file, test: fashionMNIST!.test)
        print("PyTorch → ONNX → FashionLab, \(name): PyTorch \(expected.pytorchCorrect) of \(expected.images), onnxruntime \(expected.onnxruntimeCorrect), FashionLab \(correct)")
        #expect(correct == expected.pytorchCorrect)
        #expect(config.encoding.scale)
        #expect((config.encoding.normalization != nil) == (name != "mlp"))
        #expect(try ModelDescription(model).layers.map(\.type) == Self.expectedLayers[name])
    }

    @Test("BatchNorm statistics that PyTorch wrote as Identity nodes of other initializers are read")
    func identityOfInitializers() throws {
        let (model, config) = try ModelFormats.load(Self.fixtures + "/pytorch_untrained_batchnorm.onnx")
        #expect(try ModelDescription(model).layers.map(\.type) == ["Flatten", "Linear", "BatchNorm1d", "ReLU", "Linear"])
        #expect(model.buffers.first { $0.name == "2.running_var" }?.value.toArray() == [1, 1, 1, 1])
        #expect(config.encoding == PixelEncoding(scale: false))
    }

    @Test("operators FashionLab does not have are an error that names them all")
    func unsupportedOperators() throws {
        let file = Self.fixtures + "/pytorch_unsupported.onnx"
        #expect { try ModelFormats.load(file) } throws: { error in
            let text = "\(error)"
            return text.contains(file) && text.contains("LeakyRelu, Sigmoid")
        }
    }

    @Test("FashionLab's own export reads back: the same layers (but Dropout) and the same logits")
    func ownExportRoundTrip() throws {
        let description = try ModelDescription.parse(Data(poolingNetworkJSON.utf8), name: "pooling.json")
        let model = try Sequential(description: description, seed: 3)
        // Statistics that are not the initial ones, so that the BatchNormalization nodes matter.
        for buffer in model.buffers where !buffer.isInteger {
            for i in 0..<buffer.value.count { buffer.value.data[i] = buffer.name.hasSuffix("running_var") ? 0.5 + Float(i % 3) : Float(i % 5) * 0.1 }
        }
        let encoding = PixelEncoding(scale: true, normalization: .init(mean: 0.286, std: 0.353))
        let file = TestFiles.newPath("own", extension: "onnx")
        try ONNXExport.serialized(model, encoding: encoding, classNames: FashionMNIST.classNames, source: "pooling")
            .write(to: URL(fileURLWithPath: file))
        let (imported, config) = try ModelFormats.load(file)
        #expect(config.encoding == encoding)
        #expect(try ModelDescription(imported).layers == description.layers.filter { $0.type != "Dropout" })
        let images = Dataset.bands(count: 64, noise: 50)
        let original = try model.logits(on: images, encoding: encoding)
        let again = try imported.logits(on: images, encoding: config.encoding)
        #expect(original == again)
    }

    @Test("hostile files are errors that name the file, never a crash")
    func hostileFiles() throws {
        let model = Sequential.mlp(hidden: [8], seed: 1)
        let good = try ONNXExport.serialized(model, encoding: PixelEncoding(scale: true), classNames: FashionMNIST.classNames, source: "mlp")
        let file = TestFiles.newPath("hostile", extension: "onnx")
        func expectError(_ bytes: Data, _ fragment: String) throws {
            try bytes.write(to: URL(fileURLWithPath: file))
            #expect { try ModelFormats.load(file) } throws: { error in
                "\(error)".contains(file) && "\(error)".contains(fragment)
            }
        }
        try expectError(Data("not protobuf at all".utf8), "not an ONNX model")
        for cut in stride(from: 1, to: good.count, by: max(1, good.count / 97)) {
            try good.prefix(cut).write(to: URL(fileURLWithPath: file))
            #expect(throws: (any Error).self) { try ModelFormats.load(file) }
        }
        // Every byte flipped in turn, in the graph's head: an error or a model, never a crash.
        for index in stride(from: 0, to: min(good.count, 4096), by: 7) {
            var bytes = good
            bytes[index] ^= 0xA5
            try bytes.write(to: URL(fileURLWithPath: file))
            _ = try? ModelFormats.load(file)
        }
        #expect { try ModelFormats.load(TestFiles.newPath("absent", extension: "onnx")) } throws: { "\($0)".contains("no such file") }
    }
}
