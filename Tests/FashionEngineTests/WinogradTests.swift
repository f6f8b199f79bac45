import Testing
import FashionCore
import FashionEngine

/// Winograd F(2×2, 3×3) against im2col + GEMM on the same layer: forward output, input gradient, weight and
/// bias gradients (PyTorch's own numbers for it are in `LayerFixtureTests.conv2dWinograd`).
@Suite struct WinogradTests {
    /// Two copies of one layer, one per algorithm, run on the same input and upstream gradient.
    func compare(batch: Int, channels: Int, outChannels: Int, height: Int, width: Int) throws {
        var generator = SeededGenerator(seed: UInt64(batch * 1000 + height * 10 + width))
        var copyGenerator = generator
        let winograd = Conv2d(channels, outChannels, kernel: 3, padding: 1, using: &generator)
        let im2col = Conv2d(channels, outChannels, kernel: 3, padding: 1, using: &copyGenerator)
        winograd.algorithm = .winograd
        im2col.algorithm = .im2col
        let x = Tensor(shape: [batch, channels, height, width], values: (0..<(batch * channels * height * width)).map { _ in generator.nextUnitFloat() * 2 - 1 })
        let upstream = Tensor(shape: [batch, outChannels, height, width],
                              values: (0..<(batch * outChannels * height * width)).map { _ in generator.nextUnitFloat() * 2 - 1 })
        let yW = winograd.forward(x, training: true).toArray(), yI = im2col.forward(x, training: true).toArray()
        expectClose(yW, yI, "output")
        // Twice: the second backward accumulates into the parameter gradients.
        for pass in 0..<2 {
            let dxW = try #require(winograd.backward(upstream, needsInputGradient: true)).toArray()
            let dxI = try #require(im2col.backward(upstream, needsInputGradient: true)).toArray()
            expectClose(dxW, dxI, "input gradient, pass \(pass)")
            expectClose(winograd.weight.gradient.toArray(), im2col.weight.gradient.toArray(), "weight gradient, pass \(pass)")
            expectClose(winograd.bias!.gradient.toArray(), im2col.bias!.gradient.toArray(), "bias gradient, pass \(pass)")
        }
        #expect(winograd.backward(upstream, needsInputGradient: false) == nil)
    }

    func expectClose(_ actual: [Float], _ expected: [Float], _ what: String) {
        #expect(actual.count == expected.count)
        let scale = expected.map { abs($0) }.max() ?? 1
        let error = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(error <= 1e-5 * max(scale, 1), "\(what): max error \(error), largest value \(scale)")
    }

    @Test(arguments: [(28, 28), (14, 14), (7, 7), (5, 6), (1, 1), (2, 9)])
    func matchesIm2colOnEverySize(height: Int, width: Int) throws {
        try compare(batch: 3, channels: 8, outChannels: 5, height: height, width: width)
    }

    @Test func matchesIm2colOverManyChunks() throws {
        // Each thread transforms about 196 tiles at a time: 12 images of 7×7 (16 tiles), 4 of 14×14 (49 tiles);
        // with 61 images per batch every thread has several chunks, the last one short.
        try compare(batch: 61, channels: 16, outChannels: 24, height: 7, width: 7)
        try compare(batch: 61, channels: 12, outChannels: 8, height: 14, width: 14)
    }

    @Test func isChosenWhereItApplies() {
        var generator = SeededGenerator(seed: 0)
        #expect(Conv2d(32, 32, kernel: 3, padding: 1, using: &generator).algorithm == .winograd)
        #expect(Conv2d(1, 32, kernel: 3, padding: 1, using: &generator).algorithm == .im2col)
        #expect(Conv2d(32, 32, kernel: 3, stride: 2, padding: 1, using: &generator).algorithm == .im2col)
        #expect(Conv2d(32, 32, kernel: 5, padding: 2, using: &generator).algorithm == .im2col)
    }
}
