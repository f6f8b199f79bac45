import FashionCore
import FashionData
import FashionEngine
import FashionTraining
import Foundation
import Testing

/// A network trained in PyTorch, written by `scripts/save_for_fashionlab.py` (the committed fixture, made by
/// `scripts/make_pytorch_fixture.py`): FashionLab reads its description and its input encoding, claims nothing about
/// its training, and classifies the real test set as PyTorch did, image for image.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"), "needs Fashion-MNIST"))
struct PyTorchImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let model = fixtures + "/pytorch_cnn_normalised.safetensors"

    struct Reference: Decodable {
        let correct: Int
        let images: Int
        let correct_without_normalisation: Int
        let mean: Float
        let std: Float
    }

    @Test func aPyTorchCNNTrainedOnNormalisedInputsClassifiesAsInPyTorch() throws {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/pytorch_cnn_normalised.json")))
        let (model, config) = try ModelFile.load(Self.model)
        #expect(!ModelFile.recordsTraining(Self.model), "nothing about its training is in the file")
        #expect(config.model == .custom && config.architecture?.layers.map(\.type) == [
            "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "AvgPool2d", "Flatten", "Dropout", "Linear"])
        #expect(config.scale && config.normalization == PixelEncoding.Normalization(mean: reference.mean, std: reference.std))

        let test = try FashionMNISTLoader.load(directory: "/usr/share/datasets/fashion-mnist").test
        let report = try EvaluationReport.measure(model, named: "pytorch", on: test, encoding: config.encoding)
        #expect(report.count == reference.images)
        #expect(report.correct == reference.correct, "PyTorch: \(reference.correct) of \(reference.images)")
        // The encoding is what makes it so: without the normalisation, both frameworks get the same fewer right.
        let unnormalised = try EvaluationReport.measure(model, named: "pytorch", on: test, encoding: PixelEncoding(scale: true))
        #expect(unnormalised.correct == reference.correct_without_normalisation)
    }

    @Test func aStateDictOfAnotherNetworkSaysWhatToAdd() throws {
        var file = try Safetensors.read(Self.model)
        file.metadata = ["format": "pt"]
        let path = NSTemporaryDirectory() + "bare-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try file.write(to: path)
        #expect {
            try ModelFile.load(path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("\(path): tensor '0.weight' has shape [8, 1, 3, 3]") && text.contains("'fashionlab_model' (scripts/save_for_fashionlab.py")
        }
    }
}
