import Testing
import FashionCore
import FashionEngine

/// A `Sequential` lets a BatchNorm apply the ReLU after it (one pass over the activations less each way);
/// the results must be exactly those of the two layers run one after the other.
@Suite struct FusedLayerTests {
    func layers(seed: UInt64) -> [Layer] {
        var generator = SeededGenerator(seed: seed)
        let norm = BatchNorm(4, spatial: true)
        // Non-trivial γ and β, so that the ReLU cuts in different places in each channel.
        norm.weight.value.copy(from: [1.5, -0.7, 0.2, 1])
        norm.bias.value.copy(from: [0.3, -0.2, 0.5, -1])
        return [Conv2d(2, 4, kernel: 3, padding: 1, using: &generator), norm, ReLU(), Flatten(), Linear(4 * 5 * 5, 3, using: &generator)]
    }

    @Test func batchNormThenReLUGivesTheSameNumbersFusedOrNot() throws {
        var generator = SeededGenerator(seed: 11)
        let x = Tensor(shape: [6, 2, 5, 5], values: (0..<300).map { _ in generator.nextUnitFloat() * 4 - 2 })
        let upstream = Tensor(shape: [6, 3], values: (0..<18).map { _ in generator.nextUnitFloat() - 0.5 })

        let fused = Sequential(inputShape: [2, 5, 5], layers(seed: 3))
        let separate = layers(seed: 3)   // the same layers, run one by one outside a Sequential
        for training in [true, false] {
            let y = fused.forward(x, training: training).toArray()
            let expected = separate.reduce(x) { $1.forward($0, training: training) }.toArray()
            #expect(y == expected, "training: \(training)")
        }
        _ = fused.forward(x, training: true)
        let y = separate.reduce(x) { $1.forward($0, training: true) }
        #expect(y.count == upstream.count)
        let dx = try #require(fused.backward(upstream, needsInputGradient: true)).toArray()
        var gradient = upstream
        for layer in separate.reversed() { gradient = try #require(layer.backward(gradient, needsInputGradient: true)) }
        #expect(dx == gradient.toArray())
        for (a, b) in zip(fused.parameters, separate.flatMap(\.parameters)) {
            #expect(a.gradient.toArray() == b.gradient.toArray(), "\(a.name)")
        }
        // Some activations were cut by the ReLU and some were not.
        let activations = fused.layers[2].forward(fused.layers[1].forward(fused.layers[0].forward(x, training: false), training: false), training: false).toArray()
        #expect(activations.contains(0) && activations.contains { $0 > 0 })
    }
}
