import Testing
import FashionEngine

/// ReLU as PyTorch's threshold computes it: `x <= 0 ? 0 : x` forward and `y <= 0 ? 0 : dy` backward, so that
/// a NaN passes through (a diverging run must show a NaN loss, not a network whose activations became 0).
@Suite struct ReLUTests {
    let input: [Float] = [-1, 0, -0.0, 2, .nan, .infinity, -.infinity]

    /// torch.relu on the same values, and the gradient of its sum (printed by PyTorch 2.13).
    let expectedOutput: [Float] = [0, 0, 0, 2, .nan, .infinity, 0]
    let expectedGradient: [Float] = [0, 0, 0, 1, 1, 1, 0]

    @Test func nanPassesForwardAndItsGradientBackward() throws {
        let relu = ReLU()
        let y = relu.forward(Tensor(shape: [1, input.count], values: input), training: true).toArray()
        #expect(sameValues(y, expectedOutput), "\(y)")
        let dx = try #require(relu.backward(Tensor(shape: [1, input.count], values: [Float](repeating: 1, count: input.count)),
                                            needsInputGradient: true)).toArray()
        #expect(dx == expectedGradient)
    }

    /// The same through a BatchNorm that applies the ReLU itself (identity statistics, so it passes the values).
    @Test func nanPassesTheReLUThatBatchNormApplies() throws {
        let norm = BatchNorm(1, spatial: true)
        let model = Sequential(inputShape: [1, 1, input.count], [norm, ReLU()])
        let y = model.forward(Tensor(shape: [1, 1, 1, input.count], values: input), training: false).toArray()
        let scale = 1 / (1 + norm.epsilon).squareRoot()
        #expect(zip(y, expectedOutput).allSatisfy { $0.isNaN ? $1.isNaN : abs($0 - $1 * scale) <= 1e-6 * abs($1) || $0 == $1 }, "\(y)")
    }
}

/// Equal values, where NaN equals NaN.
func sameValues(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
}
