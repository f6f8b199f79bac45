import CKernels
import FashionCore

/// A 2-D convolution over `[B, C, H, W]` with a square kernel, stride and zero padding, as `nn.Conv2d`
/// (weight `[O, C, k, k]`, bias `[O]`, both ~ U(−1/√(C·k·k), 1/√(C·k·k))).
///
/// Each image is unrolled into columns (im2col, `[C·k·k, Ho·Wo]`) and multiplied by the weights as one
/// GEMM; the backward pass unrolls again rather than keeping every image's columns. Images are spread over
/// the threads, each with its own column buffer (and, backward, its own weight-gradient partial sum).
public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    private var input: Tensor?
    private var output: Tensor?
    private var inputGradient: Tensor?
    private var columns: Tensor?
    private var columnGradient: Tensor?
    private var partialGradients: Tensor?

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
        let workers = min(Threads.count, batch)
        let col = Tensor.reuse(columns, shape: [workers, depth, pixels])
        output = out
        columns = col
        self.input = input
        let (x, y, w, cols) = (input.data, out.data, weight.value.data, col.data)
        let biasValues = bias?.value.data
        let (channels, outChannels, kernel, stride, padding) = (inChannels, self.outChannels, self.kernel, self.stride, self.padding)
        forEachWorker(workers, batch: batch) { worker, images in
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
        guard let input, let col = columns else { preconditionFailure("Conv2d.backward before forward") }
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let (outHeight, outWidth) = (outputSize(height), outputSize(width))
        let pixels = outHeight * outWidth, depth = inChannels * kernel * kernel
        let workers = col.shape[0]
        let (weightGradient, firstBeta) = weight.gradientForAccumulation()
        // One weight-gradient partial sum per worker, added together at the end.
        let partials = Tensor.reuse(partialGradients, shape: [workers, outChannels, depth])
        partialGradients = partials
        var dx: Tensor?
        var dcol: Tensor?
        if needsInputGradient {
            let gradient = Tensor.reuse(inputGradient, shape: input.shape)
            gradient.fill(0)
            inputGradient = gradient
            dx = gradient
            dcol = Tensor.reuse(columnGradient, shape: [workers, depth, pixels])
            columnGradient = dcol
        }
        let (x, dy, w, cols, parts) = (input.data, outputGradient.data, weight.value.data, col.data, partials.data)
        let (dxData, dcolData) = (dx?.data, dcol?.data)
        let (channels, outChannels, kernel, stride, padding) = (inChannels, self.outChannels, self.kernel, self.stride, self.padding)
        forEachWorker(workers, batch: batch) { worker, images in
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
        // Sum the workers' partial weight gradients, and the bias gradient, one output channel per task.
        let (dW, dWBeta) = (weightGradient.data, firstBeta)
        let biasGradient = bias?.gradientForAccumulation()
        let (dB, dBBeta) = (biasGradient?.tensor.data, biasGradient?.beta ?? 0)
        parallelFor(outChannels, minimumChunk: 1) { range in
            for o in range {
                for i in (o * depth)..<((o + 1) * depth) {
                    var sum: Float = dWBeta == 0 ? 0 : dW[i]
                    for worker in 0..<workers { sum += parts[worker * outChannels * depth + i] }
                    dW[i] = sum
                }
                if let dB {
                    dB[o] = Float(fl_channel_sum(dy, batch, outChannels, pixels, o)) + (dBBeta == 0 ? 0 : dB[o])
                }
            }
        }
        return dx
    }

    /// Runs `body(worker, images)` for `workers` contiguous shares of the batch, in parallel.
    private func forEachWorker(_ workers: Int, batch: Int, _ body: (Int, Range<Int>) -> Void) {
        parallelFor(workers, minimumChunk: 1) { range in
            for worker in range { body(worker, (batch * worker / workers)..<(batch * (worker + 1) / workers)) }
        }
    }
}
