import Foundation
import Testing
import FashionCore
@_spi(Testing) import FashionEngine

/// Conv2d, MaxPool2d, AvgPool2d, BatchNorm, global average pooling and label-smoothed cross-entropy against PyTorch's own numbers (`scripts/make_layer_fixtures.py`,
/// float64 stored as float32): forward outputs, input gradients and parameter gradients, on the CPU and on every CUDA device present.
/// The CUDA devices the layer checks also run on: a real GPU when present, and the host emulation of the
/// GPU code paths when clang is there.
let cudaTestDevices: [CUDADevice] = [try? CUDADevice.shared.get(), try? CUDADevice.hostEmulation.get()].compactMap { $0 }

@Suite struct LayerFixtureTests {
    static let fixtures: Safetensors? = try? Safetensors.read(
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/layers.safetensors").path)

    func tensor(_ name: String) throws -> Tensor {
        let entry = try #require(Self.fixtures?[name], "fixture \(name)")
        return Tensor(shape: entry.shape, values: entry.floats())
    }

    func expectClose(_ actual: Tensor, _ name: String, tolerance: Double = 1e-5) throws {
        let expected = try tensor(name)
        #expect(actual.shape == expected.shape, "\(name) shape")
        let scale = expected.toArray().map { abs(Double($0)) }.max() ?? 1
        let error = zip(actual.toArray(), expected.toArray()).map { abs(Double($0) - Double($1)) }.max() ?? 0
        #expect(error / max(scale, 1e-12) < tolerance, "\(name): max relative error \(error / scale)")
    }

    /// Runs forward and backward (upstream gradient from the fixture) and checks everything, on the CPU and
    /// then on every CUDA device present (`cudaTestDevices`), each with a fresh layer from `make`.
    func check(prefix: String, _ make: () -> (Layer, [String: Parameter])) throws {
        let (layer, parameters) = make()
        for (name, parameter) in parameters { parameter.value.copy(from: try tensor("\(prefix).\(name)").toArray()) }
        let y = layer.forward(try tensor("\(prefix).x"), training: true)
        try expectClose(y, "\(prefix).y")
        parameters.values.forEach { $0.zeroGradient() }
        let dx = try #require(layer.backward(try tensor("\(prefix).upstream"), needsInputGradient: true))
        try expectClose(dx, "\(prefix).dx")
        for (name, parameter) in parameters { try expectClose(parameter.gradient, "\(prefix).d\(name)") }
        try afterCheck?(layer)
        for device in cudaTestDevices { try checkOnGPU(device, prefix: prefix, make) }
    }

    /// The same layer as a one-layer model on a CUDA device.
    func checkOnGPU(_ device: CUDADevice, prefix: String, _ make: () -> (Layer, [String: Parameter])) throws {
        let (layer, parameters) = make()
        for (name, parameter) in parameters { parameter.value.copy(from: try tensor("\(prefix).\(name)").toArray()) }
        let x = try tensor("\(prefix).x"), upstream = try tensor("\(prefix).upstream")
        let model = Sequential(inputShape: Array(x.shape.dropFirst()), [layer])
        let gpu = try CUDAModel(model, device: device)
        let rows = x.shape[0]
        let input = try device.allocate(x.count), gradient = try device.allocate(upstream.count)
        try device.upload(x.data, count: x.count, to: input)
        try device.upload(upstream.data, count: upstream.count, to: gradient)
        let y = Tensor(shape: upstream.shape), dx = Tensor(shape: x.shape)
        try device.download(from: try gpu.forward(input: input.address, rows: rows), count: y.count, into: y.data)
        try expectClose(y, "\(prefix).y")
        let dxAddress = try #require(try gpu.backward(outputGradient: gradient.address, rows: rows, needsInputGradient: true))
        try device.download(from: dxAddress, count: dx.count, into: dx.data)
        try expectClose(dx, "\(prefix).dx")
        for (name, parameter) in parameters {
            let offset = gpu.offsets[model.parameters.firstIndex { $0 === parameter }!]
            try device.download(gpu.gradients, offset: offset, count: parameter.value.count, into: parameter.gradient.data)
            try expectClose(parameter.gradient, "\(prefix).d\(name)")
        }
        try gpu.download()
        try afterCheck?(layer)
    }

    /// Checks of a layer's state after the step (BatchNorm's running statistics), on every backend.
    var afterCheck: ((Layer) throws -> Void)?

    @Test(.enabled(if: fixtures != nil, "Fixtures/layers.safetensors is missing"))
    func conv2dWithPadding() throws {
        var generator = SeededGenerator(seed: 0)
        try check(prefix: "conv_pad") {
            let conv = Conv2d(3, 4, kernel: 3, padding: 1, using: &generator)
            return (conv, ["weight": conv.weight, "bias": conv.bias!])
        }
    }

    @Test(.enabled(if: fixtures != nil, "Fixtures/layers.safetensors is missing"), arguments: [WinogradTile.twoByTwo, .fourByFour])
    func conv2dWinograd(tile: WinogradTile) throws {
        var generator = SeededGenerator(seed: 0)
        try check(prefix: "conv_winograd") {
            let conv = Conv2d(16, 8, kernel: 3, padding: 1, using: &generator)
            #expect(conv.algorithm == .winograd)
            conv.winogradTile = tile
            return (conv, ["weight": conv.weight, "bias": conv.bias!])
        }
    }

    @Test(.enabled(if: fixtures != nil, "Fixtures/layers.safetensors is missing"))
    func conv2dWithStride() throws {
        var generator = SeededGenerator(seed: 0)
        try check(prefix: "conv_stride") {
            let conv = Conv2d(2, 3, kernel: 3, stride: 2, using: &generator)
            return (conv, ["weight": conv.weight, "bias": conv.bias!])
        }
    }

    @Test(.enabled(if: fixtures != nil, "Fixtures/layers.safetensors is missing"))
    func maxPool() throws {
        try check(prefix: "pool") { (MaxPool2d(2), [:]) }
    }

    /// 2×2 with an odd width (the last column takes no part) and 3×3 on 7×7 (the last row and column take none).
    @Test(.enabled(if: fixtures != nil, "Fixtures/layers.safetensors is missing"), arguments: [("avgpool", 2), ("avgpool3", 3)])
    func avgPool(prefix: String, size: Int) throws {
        try check(prefix: prefix) { (AvgPool2d(size), [:]) }
    }

    @Test(.enabled(if: fixtures != nil, "Fixtures/layers.safetensors is missing"), arguments: [("bn2d", true), ("bn1d", false)])
    func batchNorm(prefix: String, spatial: Bool) throws {
        let channels = try tensor("\(prefix).weight").count
        var checks = self
        checks.afterCheck = { layer in
            let norm = try #require(layer as? BatchNorm)
            try expectClose(norm.runningMean.value, "\(prefix).running_mean")
            try expectClose(norm.runningVariance.value, "\(prefix).running_var")
            #expect(norm.batchesTracked.value.data[0] == 1)
        }
        try checks.check(prefix: prefix) {
            let norm = BatchNorm(channels, spatial: spatial)
            return (norm, ["weight": norm.weight, "bias": norm.bias])
        }
    }

    @Test(.enabled(if: fixtures != nil, "Fixtures/layers.safetensors is missing"))
    func globalAveragePool() throws {
        try check(prefix: "gap") { (GlobalAveragePool(), [:]) }
    }

    @Test(.enabled(if: fixtures != nil, "Fixtures/layers.safetensors is missing"))
    func labelSmoothedCrossEntropy() throws {
        let logits = try tensor("smoothing.logits")
        let labels = LabelBuffer(capacity: 4)
        labels.resize(4)
        for (i, label) in try tensor("smoothing.labels").toArray().enumerated() { labels.data[i] = Int32(label) }
        let loss = SoftmaxCrossEntropy(labelSmoothing: 0.1)
        let result = loss(logits, labels)
        let expected = try tensor("smoothing.loss").toArray()[0]
        #expect(abs(result.loss - expected) < 1e-5 * max(1, abs(expected)), "loss \(result.loss) vs PyTorch \(expected)")
        try expectClose(try #require(loss.gradient), "smoothing.dlogits")
    }

    @Test func convolutionalStateDictHasPyTorchNames() throws {
        var generator = SeededGenerator(seed: 1)
        let model = Sequential(inputShape: [1, 8, 8], [
            Conv2d(1, 2, kernel: 3, padding: 1, using: &generator), BatchNorm(2, spatial: true), ReLU(), MaxPool2d(2),
            Flatten(), Linear(32, 10, using: &generator),
        ])
        let file = model.stateDict()
        #expect(Set(file.names) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                    "1.num_batches_tracked", "5.weight", "5.bias"])
        #expect(file["1.num_batches_tracked"]?.dtype == "I64")
        _ = model.forward(Tensor(shape: [3, 1, 8, 8], values: (0..<192).map { Float($0 % 7) }), training: true)
        let copy = Sequential(inputShape: [1, 8, 8], [
            Conv2d(1, 2, kernel: 3, padding: 1, using: &generator), BatchNorm(2, spatial: true), ReLU(), MaxPool2d(2),
            Flatten(), Linear(32, 10, using: &generator),
        ])
        try copy.load(Safetensors.parse(model.stateDict().encoded(), name: "m"), name: "m")
        let x = Tensor(shape: [2, 1, 8, 8], values: (0..<128).map { Float($0 % 5) })
        #expect(copy.forward(x, training: false).toArray() == model.forward(x, training: false).toArray())
    }
}

@Suite struct DropoutTests {
    @Test func dropsAboutPAndScalesTheRestInTrainingOnly() throws {
        let dropout = Dropout(0.25, seed: 3)
        let x = Tensor(shape: [100, 100], values: [Float](repeating: 1, count: 10_000))
        let y = dropout.forward(x, training: true).toArray()
        let zeros = y.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / 10_000 - 0.25) < 0.02)
        #expect(y.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3.0) < 1e-6 })
        let dx = try #require(dropout.backward(Tensor(shape: [100, 100], values: [Float](repeating: 1, count: 10_000)), needsInputGradient: true))
        #expect(dx.toArray() == y)
        #expect(dropout.forward(x, training: false).toArray() == x.toArray())
        // The mask depends on the seed and the number of training passes only.
        let again = Dropout(0.25, seed: 3)
        #expect(again.forward(x, training: true).toArray() == y)
        #expect(again.forward(x, training: true).toArray() != y)
    }
}

@Suite struct MaxPoolTests {
    /// Enough planes to be split over threads: every chunk's indices must point into its own planes.
    @Test func manyPlanesPoolAndRouteGradientsCorrectly() throws {
        var generator = SeededGenerator(seed: 8)
        let (batch, channels, side) = (5, 16, 6)
        let x = Tensor(shape: [batch, channels, side, side], values: (0..<(batch * channels * side * side)).map { _ in generator.nextUnitFloat() })
        let pool = MaxPool2d(2)
        let y = pool.forward(x, training: true)
        let dy = Tensor(shape: y.shape, values: (0..<y.count).map { Float($0 % 7 + 1) })
        let dx = try #require(pool.backward(dy, needsInputGradient: true))
        var expectedDx = [Float](repeating: 0, count: x.count)
        for plane in 0..<(batch * channels) {
            for oy in 0..<(side / 2) {
                for ox in 0..<(side / 2) {
                    let candidates = [(0, 0), (0, 1), (1, 0), (1, 1)].map { plane * side * side + (2 * oy + $0.0) * side + 2 * ox + $0.1 }
                    let best = candidates.max { x.data[$0] < x.data[$1] }!
                    let o = (plane * (side / 2) + oy) * (side / 2) + ox
                    #expect(y.data[o] == x.data[best])
                    expectedDx[best] += dy.data[o]
                }
            }
        }
        #expect(dx.toArray() == expectedDx)
    }

    /// PyTorch's rule in every window (reading order; a later value wins when greater or NaN, so ties go to
    /// the first and of two NaNs the later is kept), for every width up to 40 (the vector kernel takes 16
    /// windows at a time, the last ones under a mask) and odd heights and widths (the last row or column dropped).
    @Test(arguments: [1, 2, 3, 5])
    func tiesAndNaNsFollowPyTorchAtEveryWidth(height: Int) throws {
        var generator = SeededGenerator(seed: UInt64(height))
        for width in 1...40 {
            let planes = 20
            let values: [Float] = (0..<(planes * height * width)).map { _ in
                let draw = generator.nextUnitFloat()
                return draw < 0.1 ? .nan : Float(Int(draw * 4))   // few distinct values: many ties
            }
            let x = Tensor(shape: [4, 5, height, width], values: values)
            let pool = MaxPool2d(2)
            let y = pool.forward(x, training: true)
            let (outHeight, outWidth) = (height / 2, width / 2)
            #expect(y.shape == [4, 5, outHeight, outWidth])
            guard y.count > 0 else { continue }
            // Each input is in at most one window, so a gradient of o + 1 for window o shows which input won it.
            let dy = Tensor(shape: y.shape, values: (0..<y.count).map { Float($0 + 1) })
            let dx = try #require(pool.backward(dy, needsInputGradient: true))
            for plane in 0..<planes {
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        var best = plane * height * width + 2 * oy * width + 2 * ox
                        for (dy, dx) in [(0, 1), (1, 0), (1, 1)] {
                            let index = plane * height * width + (2 * oy + dy) * width + 2 * ox + dx
                            if values[index] > values[best] || values[index].isNaN { best = index }
                        }
                        let o = (plane * outHeight + oy) * outWidth + ox
                        #expect(y.data[o].bitPattern == values[best].bitPattern, "width \(width), window \(o)")
                        #expect(dx.data[best] == Float(o + 1), "width \(width), window \(o)")
                    }
                }
            }
        }
    }
}
