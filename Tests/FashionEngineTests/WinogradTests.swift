import Testing
import CKernels
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

    /// Planes up to 30 columns wide are transformed with AVX-512 where the CPU has it (winograd_avx512.c),
    /// wider ones by the portable loops. A narrow plane inside a 62-column plane of zeros has the same tiles,
    /// so each transform of the narrow plane must equal the matching part of the wide one's, exactly, and
    /// must write nothing outside its tiles.
    @Test(arguments: [(28, 28), (14, 14), (7, 7), (30, 30), (13, 29), (5, 6), (1, 1), (2, 9), (9, 2)])
    func vectorTransformsMatchThePortableOnes(height: Int, width: Int) {
        let (images, channels, wideWidth) = (2, 3, 62)
        let (tilesHigh, tilesWide, wideTilesWide) = ((height + 1) / 2, (width + 1) / 2, (wideWidth + 1) / 2)
        let (tiles, wideTiles) = (tilesHigh * tilesWide, tilesHigh * wideTilesWide)
        let (ld, wideLd) = (images * tiles + 5, images * wideTiles)
        var generator = SeededGenerator(seed: UInt64(height * 100 + width))
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 } }
        let scratch = [Float](repeating: 0, count: fl_winograd_scratch_count(height, wideWidth))
        var work = scratch

        // Where plane (image, channel) pixel (r, k) and tile (image, ty, j) of transform element ξ live.
        func pixel(_ plane: Int, _ r: Int, _ k: Int, width: Int) -> Int { (plane * height + r) * width + k }
        func narrowTile(_ xi: Int, _ c: Int, _ image: Int, _ ty: Int, _ j: Int) -> Int { (xi * channels + c) * ld + image * tiles + ty * tilesWide + j }
        func wideTile(_ xi: Int, _ c: Int, _ image: Int, _ ty: Int, _ j: Int) -> Int { (xi * channels + c) * wideLd + image * wideTiles + ty * wideTilesWide + j }
        var narrowTiles: [(Int, Int)] = []   // (narrow index, wide index) of every tile element
        for xi in 0..<16 { for c in 0..<channels { for image in 0..<images { for ty in 0..<tilesHigh { for j in 0..<tilesWide {
            narrowTiles.append((narrowTile(xi, c, image, ty, j), wideTile(xi, c, image, ty, j)))
        } } } } }
        let planes = images * channels
        var narrowPixels: [(Int, Int)] = []
        for plane in 0..<planes { for r in 0..<height { for k in 0..<width {
            narrowPixels.append((pixel(plane, r, k, width: width), pixel(plane, r, k, width: wideWidth)))
        } } }

        // Input transform (and the output gradient's, the same shapes): the narrow planes inside zeros.
        let x = random(planes * height * width)
        var wideX = [Float](repeating: 0, count: planes * height * wideWidth)
        for (n, w) in narrowPixels { wideX[w] = x[n] }
        for transform in ["input", "output gradient"] {
            var v = [Float](repeating: .nan, count: 16 * channels * ld), wideV = [Float](repeating: 0, count: 16 * channels * wideLd)
            if transform == "input" {
                fl_winograd_input(x, images, channels, height, width, &v, ld, &work)
                fl_winograd_input(wideX, images, channels, height, wideWidth, &wideV, wideLd, &work)
            } else {
                fl_winograd_output_gradient(x, images, channels, height, width, &v, ld, &work)
                fl_winograd_output_gradient(wideX, images, channels, height, wideWidth, &wideV, wideLd, &work)
            }
            #expect(narrowTiles.allSatisfy { v[$0.0] == wideV[$0.1] }, "\(transform) transform of \(height)×\(width)")
            #expect(v.filter(\.isNaN).count == v.count - narrowTiles.count, "\(transform) transform wrote outside its tiles")
        }

        // Output transform and input gradient: the narrow tiles inside random (output) or zero (gradient) ones.
        let m = random(16 * channels * ld)
        var wideM = random(16 * channels * wideLd), wideDV = [Float](repeating: 0, count: 16 * channels * wideLd)
        for (n, w) in narrowTiles { (wideM[w], wideDV[w]) = (m[n], m[n]) }
        let bias = random(channels)
        var y = [Float](repeating: .nan, count: planes * height * width), wideY = [Float](repeating: 0, count: planes * height * wideWidth)
        fl_winograd_output(m, ld, images, channels, height, width, bias, &y, &work)
        fl_winograd_output(wideM, wideLd, images, channels, height, wideWidth, bias, &wideY, &work)
        #expect(narrowPixels.allSatisfy { y[$0.0] == wideY[$0.1] }, "output transform of \(height)×\(width)")
        var dx = [Float](repeating: .nan, count: planes * height * width), wideDX = [Float](repeating: 0, count: planes * height * wideWidth)
        fl_winograd_input_gradient(m, ld, images, channels, height, width, &dx, &work)
        fl_winograd_input_gradient(wideDV, wideLd, images, channels, height, wideWidth, &wideDX, &work)
        #expect(narrowPixels.allSatisfy { dx[$0.0] == wideDX[$0.1] }, "input gradient of \(height)×\(width)")
    }

    @Test func isChosenWhereItApplies() {
        var generator = SeededGenerator(seed: 0)
        #expect(Conv2d(32, 32, kernel: 3, padding: 1, using: &generator).algorithm == .winograd)
        #expect(Conv2d(1, 32, kernel: 3, padding: 1, using: &generator).algorithm == .im2col)
        #expect(Conv2d(32, 32, kernel: 3, stride: 2, padding: 1, using: &generator).algorithm == .im2col)
        #expect(Conv2d(32, 32, kernel: 5, padding: 2, using: &generator).algorithm == .im2col)
    }
}
