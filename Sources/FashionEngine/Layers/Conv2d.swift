import CKernels
import FashionCore

/// A 2-D convolution over `[B, C, H, W]` with a square kernel, stride and zero padding, as `nn.Conv2d`
/// (weight `[O, C, k, k]`, bias `[O]`, both ~ U(−1/√(C·k·k), 1/√(C·k·k))).
///
/// Two ways to compute it (`Algorithm`): Winograd's F(4×4, 3×3) or F(2×2, 3×3) for the 3×3, stride-1,
/// padding-1 convolutions of the CNNs (`WinogradConvolution`), and im2col + GEMM for everything else: each image is
/// unrolled into columns (`[C·k·k, Ho·Wo]`) and multiplied by the weights as one GEMM; the backward pass
/// unrolls again rather than keeping every image's columns. Images are spread over the threads, each with
/// its own column buffer (and, backward, its own weight-gradient partial sum).
public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    /// How a `Conv2d` computes on the CPU (the results agree to rounding).
    public enum Algorithm: Sendable {
        /// Unroll into columns and multiply: any kernel, stride and padding.
        case im2col
        /// Winograd F(4×4, 3×3) or F(2×2, 3×3) (`winogradTile`): 3×3 kernels with stride 1 and padding 1 only;
        /// 4× or 2.25× fewer multiplications.
        case winograd
    }

    /// With `.winograd`, the variant to use on every plane; nil (the default) picks per plane size: F(4×4, 3×3)
    /// where it saves enough multiplications over F(2×2, 3×3) for its dearer transforms (see `WinogradTile`).
    @_spi(Testing) public var winogradTile: WinogradTile? {
        didSet { winograd = makeWinograd() }
    }

    /// The algorithm in use: Winograd where it applies and the layer has at least 8 input channels (with
    /// fewer, the transforms cost more than the multiplications they save), im2col otherwise. Setting
    /// `.winograd` on a layer it does not apply to is a programming error. The tests choose it (`@_spi(Testing)`).
    @_spi(Testing) public var algorithm: Algorithm {
        didSet {
            precondition(algorithm == .im2col || Self.winogradSupports(kernel: kernel, stride: stride, padding: padding),
                         "Winograd needs a 3×3 kernel, stride 1 and padding 1")
            winograd = makeWinograd()
        }
    }

    private static func winogradSupports(kernel: Int, stride: Int, padding: Int) -> Bool { kernel == 3 && stride == 1 && padding == 1 }
    private var winograd: WinogradConvolution?
    private func makeWinograd() -> WinogradConvolution? {
        algorithm == .winograd ? WinogradConvolution(inChannels: inChannels, outChannels: outChannels, tile: winogradTile) : nil
    }

    private var input: Tensor?
    private var output: Tensor?
    private var inputGradient: Tensor?
    private var columns: Tensor?
    private var columnGradient: Tensor?
    private var partialGradients: Tensor?

    /// A `kernel`×`kernel` convolution from `inChannels` to `outChannels` (`nn.Conv2d`), its weights drawn from
    /// `generator` as PyTorch draws them.
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                using generator: inout SeededGenerator) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let bound = 1 / Float(inChannels * kernel * kernel).squareRoot()
        weight = Parameter(name: "weight", value: Initializers.uniform(shape: [outChannels, inChannels, kernel, kernel], bound: bound, using: &generator))
        self.bias = bias ? Parameter(name: "bias", value: Initializers.uniform(shape: [outChannels], bound: bound, using: &generator)) : nil
        let winogradApplies = Self.winogradSupports(kernel: kernel, stride: stride, padding: padding) && inChannels >= 8
        algorithm = winogradApplies ? .winograd : .im2col
        winograd = makeWinograd()
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var summary: String {
        "Conv2d(\(inChannels), \(outChannels), kernel_size=(\(kernel), \(kernel)), stride=(\(stride), \(stride)), padding=(\(padding), \(padding)))"
    }

    func outputSize(_ inputSize: Int) -> Int { (inputSize + 2 * padding - kernel) / stride + 1 }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        [outChannels, outputSize(inputShape[1]), outputSize(inputShape[2])]
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        precondition(input.shape[1] == inChannels, "Conv2d(\(inChannels), …) got input of shape \(input.shape)")
        let (outHeight, outWidth) = (outputSize(height), outputSize(width))
        let pixels = outHeight * outWidth, depth = inChannels * kernel * kernel
        let out = Tensor.reuse(output, shape: [batch, outChannels, outHeight, outWidth])
        output = out
        self.input = input
        if let winograd {
            winograd.forward(input, weight: weight.value, bias: bias?.value, into: out)
            return out
        }
        let workers = min(Threads.count, batch)
        let col = Tensor.reuse(columns, shape: [workers, depth, pixels])
        columns = col
        let (x, y, w, cols) = (input.data, out.data, weight.value.data, col.data)
        let biasValues = bias?.value.data
        let (channels, outChannels, kernel, stride, padding) = (inChannels, self.outChannels, self.kernel, self.stride, self.padding)
        forEachShare(ofBatch: batch, workers: workers) { worker, images in
            let scratch = cols + worker * depth * pixels
            for b in images {
                fl_im2col(x + b * channels * height * width, channels, height, width, kernel, stride, padding, scratch)
                let target = y + b * outChannels * pixels
                // out[b] [O, Ho·Wo] = W [O, C·k·k] · col [C·k·k, Ho·Wo]  (inline: this thread's share)
                BLAS.shared.gemm(transposeA: false, transposeB: false, m: outChannels, n: pixels, k: depth, alpha: 1,
                                 a: w, lda: depth, b: scratch, ldb: pixels, beta: 0, c: target, ldc: pixels)
                if let biasValues {
                    for o in 0..<outChannels {
                        let row = target + o * pixels
                        let value = biasValues[o]
                        for i in 0..<pixels { row[i] += value }
                    }
                }
            }
        }
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input else { preconditionFailure("Conv2d.backward before forward") }
        var dx: Tensor?
        if needsInputGradient {
            dx = Tensor.reuse(inputGradient, shape: input.shape)
            inputGradient = dx
        }
        let (weightGradient, beta) = weight.gradientForAccumulation()
        if let winograd {
            winograd.backward(input, outputGradient: outputGradient, weightGradient: weightGradient, beta: beta, inputGradient: dx)
        } else {
            im2colBackward(input, outputGradient: outputGradient, weightGradient: weightGradient, beta: beta, inputGradient: dx)
        }
        if let bias {
            let (dB, biasBeta) = bias.gradientForAccumulation()
            let (dy, db, outChannels) = (outputGradient.data, dB.data, self.outChannels)
            let (batch, pixels) = (outputGradient.shape[0], outputGradient.shape[2] * outputGradient.shape[3])
            parallelFor(outChannels, minimumChunk: 16) { range in
                fl_channel_sums(dy, batch, outChannels, pixels, range.lowerBound, range.upperBound, db, biasBeta == 0 ? 0 : 1)
            }
        }
        return dx
    }

    private func im2colBackward(_ input: Tensor, outputGradient: Tensor, weightGradient: Tensor, beta: Float, inputGradient dx: Tensor?) {
        guard let col = columns else { preconditionFailure("Conv2d.backward before forward") }
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let (outHeight, outWidth) = (outputSize(height), outputSize(width))
        let pixels = outHeight * outWidth, depth = inChannels * kernel * kernel
        let workers = col.shape[0]
        // One weight-gradient partial sum per worker, added together at the end.
        let partials = Tensor.reuse(partialGradients, shape: [workers, outChannels, depth])
        partialGradients = partials
        var dcol: Tensor?
        if let dx {
            dx.fill(0)
            dcol = Tensor.reuse(columnGradient, shape: [workers, depth, pixels])
            columnGradient = dcol
        }
        let (x, dy, w, cols, parts) = (input.data, outputGradient.data, weight.value.data, col.data, partials.data)
        let (dxData, dcolData) = (dx?.data, dcol?.data)
        let (channels, outChannels, kernel, stride, padding) = (inChannels, self.outChannels, self.kernel, self.stride, self.padding)
        forEachShare(ofBatch: batch, workers: workers) { worker, images in
            let scratch = cols + worker * depth * pixels
            let partial = parts + worker * outChannels * depth
            for b in images {
                let dout = dy + b * outChannels * pixels
                fl_im2col(x + b * channels * height * width, channels, height, width, kernel, stride, padding, scratch)
                // dW [O, C·k·k] += dout[b] [O, Ho·Wo] · colᵀ
                BLAS.shared.gemm(transposeA: false, transposeB: true, m: outChannels, n: depth, k: pixels, alpha: 1,
                                 a: dout, lda: pixels, b: scratch, ldb: pixels,
                                 beta: b == images.lowerBound ? 0 : 1, c: partial, ldc: depth)
                if let dxData, let dcolData {
                    let gradientColumns = dcolData + worker * depth * pixels
                    // dcol [C·k·k, Ho·Wo] = Wᵀ · dout[b]
                    BLAS.shared.gemm(transposeA: true, transposeB: false, m: depth, n: pixels, k: outChannels, alpha: 1,
                                     a: w, lda: depth, b: dout, ldb: pixels, beta: 0, c: gradientColumns, ldc: pixels)
                    fl_col2im(gradientColumns, channels, height, width, kernel, stride, padding, dxData + b * channels * height * width)
                }
            }
        }
        // Sum the workers' partial weight gradients, one output channel per task.
        let dW = weightGradient.data
        parallelFor(outChannels, minimumChunk: 1) { range in
            for i in (range.lowerBound * depth)..<(range.upperBound * depth) {
                var sum: Float = beta == 0 ? 0 : dW[i]
                for worker in 0..<workers { sum += parts[worker * outChannels * depth + i] }
                dW[i] = sum
            }
        }
    }
}

/// Runs `body(worker, images)` for `workers` contiguous shares of a batch of `batch` images, in parallel:
/// how the convolutions spread images over the threads, each worker with its own scratch buffers.
func forEachShare(ofBatch batch: Int, workers: Int, _ body: (Int, Range<Int>) -> Void) {
    parallelFor(workers, minimumChunk: 1) { range in
        for worker in range { body(worker, (batch * worker / workers)..<(batch * (worker + 1) / workers)) }
    }
}

// MARK: Model description (`{"type": "Conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3, "stride": 1,
// "padding": 1, "bias": true}`; square kernels, zero padding)

extension Conv2d: DescribedLayer {
    public static let layerType = LayerType(
        name: "Conv2d",
        settings: [LayerSetting("in_channels", .int), LayerSetting("out_channels", .int), LayerSetting("kernel_size", .int),
                   LayerSetting("stride", .int, default: .value(.int(1))), LayerSetting("padding", .int, default: .value(.int(0))),
                   LayerSetting("bias", .bool, default: .value(.bool(true)))],
        check: { description, input in
            let (channels, height, width) = try ShapeCheck.image(input)
            let inChannels = try ShapeCheck.size(description, "in_channels")
            let outChannels = try ShapeCheck.size(description, "out_channels")
            let kernel = try ShapeCheck.size(description, "kernel_size")
            let stride = try ShapeCheck.size(description, "stride")
            let padding = try ShapeCheck.size(description, "padding", minimum: 0)
            guard inChannels == channels else { throw LayerProblem("in_channels \(inChannels) does not match its input's \(channels) channels (\(input))") }
            let twice = try ShapeCheck.product([2, padding], "padding")
            let (paddedHeight, paddedWidth) = (try ShapeCheck.sum(height, twice, "padding"), try ShapeCheck.sum(width, twice, "padding"))
            guard kernel <= paddedHeight, kernel <= paddedWidth else {
                throw LayerProblem("kernel_size \(kernel) is larger than its padded input (\(paddedHeight)×\(paddedWidth))")
            }
            let output = [outChannels, (paddedHeight - kernel) / stride + 1, (paddedWidth - kernel) / stride + 1]
            let depth = try ShapeCheck.product([inChannels, kernel, kernel], "its kernel")
            let weights = try ShapeCheck.product([outChannels, depth], "its weight")
            return LayerShape(output: output, parameters: try ShapeCheck.sum(weights, description.bool("bias") ? outChannels : 0, "its parameter count"),
                              scratch: try ShapeCheck.product([depth, output[1], output[2]], "its unrolled input"))
        },
        make: { description, _, builder in
            Conv2d(description.int("in_channels"), description.int("out_channels"), kernel: description.int("kernel_size"),
                   stride: description.int("stride"), padding: description.int("padding"), bias: description.bool("bias"), using: &builder.generator)
        })

    public var layerDescription: LayerDescription {
        .conv2d(inChannels, outChannels, kernelSize: kernel, stride: stride, padding: padding, bias: bias != nil)
    }
}

extension LayerDescription {
    public static func conv2d(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) -> LayerDescription {
        LayerDescription(type: "Conv2d", arguments: ["in_channels": .int(inChannels), "out_channels": .int(outChannels), "kernel_size": .int(kernelSize),
                                                     "stride": .int(stride), "padding": .int(padding), "bias": .bool(bias)])
    }
}
