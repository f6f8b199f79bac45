import Testing
import FashionCore
import FashionEngine

@Suite struct GradientTests {
    /// Mean cross-entropy of `model` on a fixed batch, in Double for finite differences.
    func loss(_ model: Sequential, _ x: Tensor, _ labels: LabelBuffer) -> Double {
        SoftmaxCrossEntropy()(model.forward(x, training: false), labels, computeGradient: false).lossSum / Double(labels.count)
    }

    @Test func backwardMatchesFiniteDifferences() {
        let model = Sequential.mlp(inputs: 6, hidden: [5, 4], classes: 3, seed: 11)
        var generator = SeededGenerator(seed: 12)
        let x = Tensor(shape: [4, 6], values: (0..<24).map { _ in generator.nextUnitFloat() * 2 - 1 })
        let labels = LabelBuffer([0, 2, 1, 2])
        let criterion = SoftmaxCrossEntropy()
        model.zeroGradients()
        _ = criterion(model.forward(x, training: true), labels)
        let inputGradient = model.backward(criterion.gradient!, needsInputGradient: true)!.toArray()

        let h: Float = 1e-2
        for parameter in model.parameters {
            let analytic = parameter.gradient.toArray()
            for i in 0..<parameter.value.count {
                let saved = parameter.value.data[i]
                parameter.value.data[i] = saved + h
                let up = loss(model, x, labels)
                parameter.value.data[i] = saved - h
                let down = loss(model, x, labels)
                parameter.value.data[i] = saved
                let numeric = (up - down) / Double(2 * h)
                #expect(abs(numeric - Double(analytic[i])) < 2e-3, "\(parameter.name)[\(i)]: numeric \(numeric), analytic \(analytic[i])")
            }
        }
        for i in 0..<x.count {
            let saved = x.data[i]
            x.data[i] = saved + h
            let up = loss(model, x, labels)
            x.data[i] = saved - h
            let down = loss(model, x, labels)
            x.data[i] = saved
            #expect(abs((up - down) / Double(2 * h) - Double(inputGradient[i])) < 2e-3, "input[\(i)]")
        }
    }

    @Test func gradientsAccumulateUntilZeroed() {
        let model = Sequential.mlp(inputs: 3, hidden: [4], classes: 2, seed: 1)
        let x = Tensor(shape: [2, 3], values: [0.1, -0.2, 0.3, 0.5, 0.1, -0.4])
        let labels = LabelBuffer([1, 0])
        let criterion = SoftmaxCrossEntropy()
        func pass() {
            _ = criterion(model.forward(x, training: true), labels)
            _ = model.backward(criterion.gradient!)
        }
        model.zeroGradients()
        pass()
        let once = model.parameters.map { $0.gradient.toArray() }
        pass()
        let twice = model.parameters.map { $0.gradient.toArray() }
        for (a, b) in zip(once, twice) {
            for (u, v) in zip(a, b) { #expect(abs(2 * u - v) < 1e-6) }
        }
        model.zeroGradients()
        pass()
        #expect(model.parameters.map { $0.gradient.toArray() } == once)
    }

    @Test func crossEntropyIsStableForHugeLogits() {
        let logits = Tensor(shape: [2, 3], values: [1000, 0, -1000, 5e4, 5e4, 0])
        let result = SoftmaxCrossEntropy()(logits, LabelBuffer([0, 1]))
        #expect(abs(Double(result.loss) - log(2.0) / 2) < 1e-5)
        #expect(result.correct == 1)  // ties take the first index, as torch.max does
    }

    @Test func linearInitialisationFollowsPyTorchBounds() {
        var generator = SeededGenerator(seed: 0)
        let layer = Linear(784, 1000, using: &generator)
        let bound = 1 / Float(784).squareRoot()
        let weights = layer.weight.value.toArray()
        #expect(weights.allSatisfy { abs($0) <= bound })
        #expect(weights.max()! > bound * 0.99 && weights.min()! < -bound * 0.99)
        #expect(layer.bias!.value.toArray().allSatisfy { abs($0) <= bound })
        #expect(layer.weight.value.shape == [1000, 784])
    }
}

import Foundation
