import Foundation
import Testing
import FashionData
import FashionEngine
import FashionTraining

/// `../shared/reference/*.safetensors`: PyTorch's own numbers for the notebook's MLP (initial
/// weights, the first batch, its logits, loss and gradients, and the weights after a few optimiser
/// steps over consecutive batches of the training set). FashionLab must agree within GUIDE §4's
/// tolerances, measured as max |a − b| / max |b| over each tensor.
let referenceDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/reference").path
let referenceFiles = ["mlp_sgd_1step", "mlp_adam_3steps", "mlp_adam_unscaled_2steps"]
let referenceAvailable = FileManager.default.fileExists(atPath: referenceDirectory + "/mlp_sgd_1step.safetensors")

func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    precondition(actual.count == expected.count)
    let scale = expected.map { abs(Double($0)) }.max() ?? 1
    let difference = zip(actual, expected).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return difference / max(scale, 1e-30)
}

@Suite(.enabled(if: referenceAvailable, "PyTorch reference files are not in \(referenceDirectory)"))
struct PyTorchReferenceTests {
    struct Case {
        let file: Safetensors
        let optimizer: String
        let learningRate: Float
        let steps: Int
        let scale: Bool
        let firstIndex: Int

        init(_ name: String) throws {
            file = try Safetensors.read(referenceDirectory + "/\(name).safetensors")
            optimizer = file.metadata["optimizer"]!
            learningRate = Float(file.metadata["lr"]!)!
            steps = Int(file.metadata["steps"]!)!
            scale = file.metadata["scale"] == "True"
            firstIndex = Int(file.metadata["first_index"]!)!
        }

        func floats(_ key: String) -> [Float] { file[key]!.floats() }

        /// The MLP with PyTorch's initial weights.
        func model() -> Sequential {
            let model = Sequential.mlp(inputs: 784, hidden: [1000], classes: 10)
            let names = ["0.weight": "init_w1", "0.bias": "init_b1", "2.weight": "init_w2", "2.bias": "init_b2"]
            for parameter in model.parameters { parameter.value.copy(from: floats(names[parameter.name]!)) }
            return model
        }

        func makeOptimizer() -> Optimizer {
            optimizer == "sgd" ? SGD(learningRate: learningRate) : Adam(learningRate: learningRate)
        }

        /// The (inputs, labels) of step `step`: from the file for the first, from the dataset after.
        func batch(_ step: Int, train: Dataset?) -> (Tensor, LabelBuffer)? {
            if step == 0 {
                return (Tensor(shape: [32, 784], values: floats("x")), LabelBuffer(file["y"]!.integers().map(Int32.init)))
            }
            guard let train else { return nil }
            let start = firstIndex + 32 * step
            let batches = BatchIterator(dataset: train.subset(start..<(start + 32)), batchSize: 32, shuffle: false, encoding: PixelEncoding(scale: scale))
            let (x, y) = batches.load(batch: 0)
            return (x, y)
        }
    }

    static let train: Dataset? = try? FashionMNISTLoader.load(directory: "/usr/share/datasets/fashion-mnist").train

    @Test(arguments: referenceFiles)
    func forwardBackwardAndSteps(name: String) throws {
        let reference = try Case(name)
        let model = reference.model()
        let optimizer = reference.makeOptimizer()
        let criterion = SoftmaxCrossEntropy()
        let losses = reference.floats("losses")
        let gradientNames = ["0.weight": "grad_w1", "0.bias": "grad_b1", "2.weight": "grad_w2", "2.bias": "grad_b2"]
        let finalNames = ["0.weight": "final_w1", "0.bias": "final_b1", "2.weight": "final_w2", "2.bias": "final_b2"]

        for step in 0..<reference.steps {
            guard let (x, y) = reference.batch(step, train: Self.train) else {
                Issue.record("step \(step + 1) needs the Fashion-MNIST training set in /usr/share/datasets/fashion-mnist")
                return
            }
            model.zeroGradients()
            let logits = model.forward(x, training: true)
            if step == 0 {
                let error = relativeError(logits.toArray(), reference.floats("logits"))
                print("\(name): logits max relative error \(error)")
                #expect(error < 1e-5)
            }
            let result = criterion(logits, y)
            let lossError = abs(Double(result.loss) - Double(losses[step])) / abs(Double(losses[step]))
            print("\(name): step \(step + 1) loss \(result.loss) vs PyTorch \(losses[step]) (relative error \(lossError))")
            #expect(lossError < 1e-5)
            _ = model.backward(criterion.gradient!)
            if step == 0 {
                for parameter in model.parameters {
                    let error = relativeError(parameter.gradient.toArray(), reference.floats(gradientNames[parameter.name]!))
                    print("\(name): gradient of \(parameter.name) max relative error \(error)")
                    #expect(error < 1e-5, "\(parameter.name)")
                }
            }
            optimizer.step(model.parameters)
        }
        let tolerance = reference.optimizer == "sgd" ? 1e-5 : (reference.scale ? 1e-3 : 5e-2)
        for parameter in model.parameters {
            let error = relativeError(parameter.value.toArray(), reference.floats(finalNames[parameter.name]!))
            print("\(name): \(parameter.name) after \(reference.steps) step(s) max relative error \(error) (tolerance \(tolerance))")
            #expect(error < tolerance, "\(parameter.name)")
        }
    }

    /// The trainer applies plain SGD inside the backward pass; it must land on the same weights.
    @Test func fusedSGDMatchesPyTorch() throws {
        let reference = try Case("mlp_sgd_1step")
        let model = reference.model()
        let (x, y) = reference.batch(0, train: nil)!
        let criterion = SoftmaxCrossEntropy()
        for parameter in model.parameters { parameter.fusedSGDRate = reference.learningRate }
        model.zeroGradients()
        _ = criterion(model.forward(x, training: true), y)
        _ = model.backward(criterion.gradient!)
        SGD(learningRate: reference.learningRate).step(model.parameters)  // must skip what was fused
        let finalNames = ["0.weight": "final_w1", "0.bias": "final_b1", "2.weight": "final_w2", "2.bias": "final_b2"]
        for parameter in model.parameters {
            #expect(relativeError(parameter.value.toArray(), reference.floats(finalNames[parameter.name]!)) < 1e-5)
        }
    }
}
