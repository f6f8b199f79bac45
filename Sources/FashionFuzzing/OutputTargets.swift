import Foundation
import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionTraining

/// What a model file can ask of the machine and what its outputs can be: descriptions whose working memory is
/// large (many wide outputs, few parameters), checked against the memory a batch really takes; model files whose
/// outputs are NaN or infinite, through everything that formats, encodes or draws a model's outputs.
extension FuzzTargets {
    static var workingMemory: FuzzTarget {
        .structured("working-memory", summary: "model descriptions of wide, deep, parameter-light networks through the settings' checks, then a batch",
                    seeds: WideNetwork.seeds, mutate: { network, m in network.mutate(&m) }) { network in
            var config = TrainingConfig()
            (config.model, config.architecture, config.batchSize, config.evaluationBatchSize) = (.custom, network.description, network.batchSize, 1)
            try config.validate()
            let check = try network.description.validate()
            guard let values = check.workingValues(batchSize: network.batchSize) else {
                throw FuzzViolation("a batch of \(network.batchSize) past the working-memory bound was accepted")
            }
            // Run the batches small enough to afford, and hold the figure against the memory they really take.
            guard values <= WideNetwork.affordableValues else { return }
            let model = try Sequential(description: network.description, seed: 1)
            guard let before = ResidentMemory.resetPeak() else { return }
            let inputs = Tensor(shape: [network.batchSize, 1, 28, 28])
            inputs.fill(0.5)
            let outputs = model.forward(inputs, training: true)
            _ = model.backward(Tensor(shape: outputs.shape))
            let grown = (ResidentMemory.peak() ?? before) - before
            let allowed = 3 * values * MemoryLayout<Float>.size + 64 << 20
            guard grown <= allowed else {
                throw FuzzViolation("a batch said to keep \(values) values took \(grown >> 20) MiB, more than the \(allowed >> 20) MiB allowed for it")
            }
        }
    }

    static var nonFiniteModel: FuzzTarget {
        .structured("non-finite-model", summary: "model files with NaN, infinite or huge weights through evaluate's and predict's outputs",
                    seeds: LoaderSeeds.shared.modelFiles.filter { $0.metadata["format"] != "fashionlab-checkpoint" },
                    mutate: { file, m in
                        for _ in 0...m.below(3) { TensorFileMutation.poisonValues(&file, &m) }
                    }) { file in
            let path = LoaderSeeds.shared.scratch("non-finite-model") + "/model.safetensors"
            try LoaderSeeds.write(file.encoded(), to: path)
            let (model, config) = try ModelFile.load(path)
            try checkModel(model, config: config, what: "poisoned model")
            let test = LoaderSeeds.shared.data.test
            let logits = try model.logits(on: test, encoding: config.encoding, batchSize: config.effectiveEvaluationBatchSize)
            let classes = logits.count / test.count
            let silent = logits.withUnsafeBufferPointer { all in
                (0..<test.count).filter { row in
                    let z = all[row * classes ..< (row + 1) * classes]
                    return (z.contains(where: \.isNaN) || z.contains(.infinity) || z.allSatisfy { $0 == -.infinity })
                }.count
            }
            let report = try EvaluationReport.measure(model, named: "fuzz", on: test, encoding: config.encoding,
                                                      batchSize: config.effectiveEvaluationBatchSize)
            guard report.unpredicted == silent else {
                throw FuzzViolation("\(silent) images have outputs that predict nothing, the report says \(report.unpredicted)")
            }
        }
    }
}

/// A network that asks for much working memory and few parameters: a convolution onto a padded image, some
/// layers without parameters after it, then global pooling down to the 10 classes; with the batch it runs at.
struct WideNetwork: Sendable {
    var channels: Int
    var kernel: Int
    var stride: Int
    var padding: Int
    /// ReLU, Dropout and BatchNorm2d layers after the convolution, by their type's name.
    var middle: [String]
    var batchSize: Int

    /// Batches up to this many working values (256 MiB) are run; larger accepted ones are only checked.
    static let affordableValues = 1 << 26

    static let seeds = [
        WideNetwork(channels: 4, kernel: 3, stride: 1, padding: 1, middle: ["ReLU"], batchSize: 8),
        WideNetwork(channels: 64, kernel: 1, stride: 1, padding: 200, middle: Array(repeating: "ReLU", count: 10), batchSize: 1),
        WideNetwork(channels: 16, kernel: 5, stride: 2, padding: 40, middle: ["BatchNorm2d", "ReLU", "Dropout"], batchSize: 32),
    ]

    var description: ModelDescription {
        let layers: [LayerDescription] = middle.map {
            switch $0 {
            case "Dropout": .dropout(0.25)
            case "BatchNorm2d": .batchNorm2d(channels)
            default: .relu
            }
        }
        return ModelDescription(inputShape: [1, 28, 28], layers: [.conv2d(1, channels, kernelSize: kernel, stride: stride, padding: padding)]
                                + layers + [.adaptiveAvgPool2d, .flatten, .linear(channels, 10)])
    }

    mutating func mutate(_ m: inout Mutator) {
        switch m.below(6) {
        case 0: channels = max(1, m.pick([1, 2, 8, 64, 128, 512, 4096, channels * 2, channels / 2]))
        case 1: padding = max(0, m.pick([0, 1, 14, 100, 250, 1000, padding * 2, padding + 1]))
        case 2: (kernel, stride) = (m.pick([1, 3, 5, 7]), m.pick([1, 2, 3]))
        case 3: middle += (0...m.below(50)).map { _ in m.pick(["ReLU", "ReLU", "Dropout", "BatchNorm2d"]) }
        case 4 where !middle.isEmpty: middle.removeLast(m.below(middle.count) + 1)
        default: batchSize = m.pick([1, 2, 7, 32, 256, 1000, 60_000, 100_000])
        }
    }
}
