import Testing
import CKernels
import FashionCore
@_spi(Testing) import FashionEngine

/// Winograd F(2×2, 3×3) and F(4×4, 3×3) against im2col + GEMM on the same layer: forward output, input gradient,
/// weight and bias gradients (PyTorch's own numbers for it are in `LayerFixtureTests.conv2dWinograd`).
@Suite struct WinogradTests {
    /// Two copies of one layer, one per algorithm, run on the same input and upstream gradient.
    func compare(batch: Int, channels: Int, outChannels: Int, height: Int, width: Int, tile: WinogradTile) throws {
        var generator = SeededGenerator(seed: UInt64(batch * 1000 + height * 10 + width))
        var copyGenerator = generator
        let winograd = Conv2d(channels, outChannels, kernel: 3, padding: 1, using: &generator)
        let im2col = Conv2d(channels, outChannels, kernel: 3, padding: 1, using: &copyGenerator)
        winograd.algorithm = .winograd
        winograd.winogradTile = tile
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

    static let sizes = [(28, 28), (14, 14), (7, 7), (16, 16), (8, 8), (5, 6), (1, 1), (2, 9), (9, 2), (3, 13), (6, 4), (32, 4), (30, 31)]

    @Test(arguments: [WinogradTile.twoByTwo, .fourByFour], sizes)
    func matchesIm2colOnEverySize(tile: WinogradTile, size: (height: Int, width: Int)) throws {
        try compare(batch: 3, channels: 8, outChannels: 5, height: size.height, width: size.width, tile: tile)
    }

    @Test(arguments: [WinogradTile.twoByTwo, .fourByFour])
    func matchesIm2colOverManyChunks(tile: WinogradTile) throws {
        // Each thread transforms about 196 (F(2×2)) or 98 (F(4×4)) tiles at a time: with 61 images per batch
        // every thread has several chunks, the last one short.
        try compare(batch: 61, channels: 16, outChannels: 24, height: 7, width: 7, tile: tile)
        try compare(batch: 61, channels: 12, outChannels: 8, height: 14, width: 14, tile: tile)
    }

    @Test func largerTilesWhereTheySaveEnough() {
        #expect(WinogradTile.best(height: 28, width: 28) == .fourByFour)
        #expect(WinogradTile.best(height: 14, width: 14) == .fourByFour)
        #expect(WinogradTile.best(height: 7, width: 7) == .fourByFour)
        #expect(WinogradTile.best(height: 2, width: 2) == .twoByTwo)
        #expect(WinogradTile.best(height: 6, width: 6) == .twoByTwo)
    }

    /// The C transforms of one variant (winograd.c or winograd4.c), as the tests call them.
    struct Transforms {
        let size: Int, points: Int
        let scratch: (Int, Int) -> Int
        let input: (UnsafePointer<Float>, Int, Int, Int, Int, UnsafeMutablePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void
        let outputGradient: (UnsafePointer<Float>, Int, Int, Int, Int, UnsafeMutablePointer<Float>, Int, UnsafeMutablePointer<Float>) -> Void
        let output: (UnsafePointer<Float>, Int, Int, Int, Int, Int, UnsafePointer<Float>?, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
        let inputGradient: (UnsafePointer<Float>, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void

        init(_ tile: WinogradTile) {
            if tile == .twoByTwo {
                (size, points, scratch) = (2, 16, { fl_winograd_scratch_count($0, $1) })
                (input, outputGradient) = ({ fl_winograd_input($0, $1, $2, $3, $4, $5, $6, $7) },
                                           { fl_winograd_output_gradient($0, $1, $2, $3, $4, $5, $6, $7) })
                (output, inputGradient) = ({ fl_winograd_output($0, $1, $2, $3, $4, $5, $6, $7, $8) },
                                           { fl_winograd_input_gradient($0, $1, $2, $3, $4, $5, $6, $7) })
            } else {
                (size, points, scratch) = (4, 36, { fl_winograd4_scratch_count($0, $1) })
                (input, outputGradient) = ({ fl_winograd4_input($0, $1, $2, $3, $4, $5, $6, $7) },
                                           { fl_winograd4_output_gradient($0, $1, $2, $3, $4, $5, $6, $7) })
                (output, inputGradient) = ({ fl_winograd4_output($0, $1, $2, $3, $4, $5, $6, $7, $8) },
                                           { fl_winograd4_input_gradient($0, $1, $2, $3, $4, $5, $6, $7) })
            }
        }
    }

    /// Planes up to 30 (F(2×2)) or 28 (F(4×4)) columns wide are transformed with AVX-512 where the CPU has it
    /// (winograd_avx512.c, winograd4_avx512.c), wider ones by the portable loops. A narrow plane inside a
    /// 62-column plane of zeros has the same tiles, so each transform of the narrow plane must equal the
    /// matching part of the wide one's, exactly, and must write nothing outside its tiles.
    @Test(arguments: [WinogradTile.twoByTwo, .fourByFour],
          [(28, 28), (14, 14), (7, 7), (30, 30), (13, 29), (5, 6), (1, 1), (2, 9), (9, 2), (25, 27), (4, 8), (11, 24),
           (16, 16), (8, 8), (32, 4)])
    func vectorTransformsMatchThePortableOnes(tile: WinogradTile, size: (height: Int, width: Int)) {
        let transforms = Transforms(tile)
        let (height, width, points, tileSize) = (size.height, size.width, transforms.points, transforms.size)
        let (images, channels, wideWidth) = (2, 3, 62)
        func tileCount(_ length: Int) -> Int { (length + tileSize - 1) / tileSize }
        let (tilesHigh, tilesWide, wideTilesWide) = (tileCount(height), tileCount(width), tileCount(wideWidth))
        let (tiles, wideTiles) = (tilesHigh * tilesWide, tilesHigh * wideTilesWide)
        let (ld, wideLd) = (images * tiles + 5, images * wideTiles)
        var generator = SeededGenerator(seed: UInt64(height * 100 + width))
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 } }
        var work = [Float](repeating: 0, count: transforms.scratch(height, wideWidth))

        // Where plane (image, channel) pixel (r, k) and tile (image, ty, j) of transform element ξ live.
        func pixel(_ plane: Int, _ r: Int, _ k: Int, width: Int) -> Int { (plane * height + r) * width + k }
        func narrowTile(_ xi: Int, _ c: Int, _ image: Int, _ ty: Int, _ j: Int) -> Int { (xi * channels + c) * ld + image * tiles + ty * tilesWide + j }
        func wideTile(_ xi: Int, _ c: Int, _ image: Int, _ ty: Int, _ j: Int) -> Int { (xi * channels + c) * wideLd + image * wideTiles + ty * wideTilesWide + j }
        var narrowTiles: [(Int, Int)] = []   // (narrow index, wide index) of every tile element
        for xi in 0..<points { for c in 0..<channels { for image in 0..<images { for ty in 0..<tilesHigh { for j in 0..<tilesWide {
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
        for (name, transform) in [("input", transforms.input), ("output gradient", transforms.outputGradient)] {
            var v = [Float](repeating: .nan, count: points * channels * ld), wideV = [Float](repeating: 0, count: points * channels * wideLd)
            transform(x, images, channels, height, width, &v, ld, &work)
            transform(wideX, images, channels, height, wideWidth, &wideV, wideLd, &work)
            #expect(narrowTiles.allSatisfy { v[$0.0] == wideV[$0.1] }, "\(name) transform of \(height)×\(width)")
            #expect(v.filter(\.isNaN).count == v.count - narrowTiles.count, "\(name) transform wrote outside its tiles")
        }

        // Output transform and input gradient: the narrow tiles inside random (output) or zero (gradient) ones.
        let m = random(points * channels * ld)
        var wideM = random(points * channels * wideLd), wideDV = [Float](repeating: 0, count: points * channels * wideLd)
        for (n, w) in narrowTiles { (wideM[w], wideDV[w]) = (m[n], m[n]) }
        let bias = random(channels)
        var y = [Float](repeating: .nan, count: planes * height * width), wideY = [Float](repeating: 0, count: planes * height * wideWidth)
        transforms.output(m, ld, images, channels, height, width, bias, &y, &work)
        transforms.output(wideM, wideLd, images, channels, height, wideWidth, bias, &wideY, &work)
        #expect(narrowPixels.allSatisfy { y[$0.0] == wideY[$0.1] }, "output transform of \(height)×\(width)")
        var dx = [Float](repeating: .nan, count: planes * height * width), wideDX = [Float](repeating: 0, count: planes * height * wideWidth)
        transforms.inputGradient(m, ld, images, channels, height, width, &dx, &work)
        transforms.inputGradient(wideDV, wideLd, images, channels, height, wideWidth, &wideDX, &work)
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
