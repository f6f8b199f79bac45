import Foundation
import FashionData
import FashionEngine
import FashionInterop
import FashionTraining

extension FuzzTargets {
    /// ONNX files through `evaluate`'s and `predict`'s reader (``FashionInterop/ONNXImport``), then a forward pass.
    /// The seeds are FashionLab's own exports: a small CNN with every layer type (normalised inputs) and an MLP
    /// (scaled inputs).
    static var onnx: FuzzTarget {
        .bytes("onnx", summary: "ONNX files through evaluate's and predict's reader, then a forward pass", seeds: ONNXSeeds.files) { bytes in
            let (model, config) = try ONNXImport.load(Data(bytes), name: "fuzz.onnx")
            let probabilities = model.probabilities(images: [UInt8](repeating: 128, count: 2 * 784), count: 2, encoding: config.encoding)
            guard probabilities.count == 2, probabilities.allSatisfy({ $0.count == FashionMNIST.classNames.count }) else {
                throw FuzzViolation("an imported model gives \(probabilities.map(\.count)) probabilities for 2 images")
            }
        }
    }
}

enum ONNXSeeds {
    static let files: [[UInt8]] = {
        let cnn = ModelDescription(inputShape: [1, 28, 28], layers: [
            .conv2d(1, 2, kernelSize: 3, stride: 2, padding: 1), .batchNorm2d(2), .relu, .maxPool2d(2), .avgPool2d(2),
            .adaptiveAvgPool2d, .flatten, .dropout(0.1), .linear(2, 4), .batchNorm1d(4), .relu, .linear(4, 10),
        ])
        let encodings = [PixelEncoding(scale: true, normalization: .init(mean: 0.29, std: 0.35)), PixelEncoding(scale: true)]
        let models = [try! Sequential(description: cnn, seed: 1), Sequential.mlp(hidden: [2], seed: 2)]
        return zip(models, encodings).map { model, encoding in
            [UInt8](try! ONNXExport.serialized(model, encoding: encoding, classNames: FashionMNIST.classNames, source: "seed"))
        }
    }()
}
