import FashionCore

/// A 2-D convolution over `[B, C, H, W]` with a square kernel, stride and zero padding, as `nn.Conv2d`
/// (weight `[O, C, k, k]`, bias `[O]`, both ~ U(−1/√(C·k·k), 1/√(C·k·k))).
///
/// Each image is unrolled into columns (im2col, `[C·k·k, Ho·Wo]`) and multiplied by the weights as one
/// GEMM; the backward pass unrolls again rather than keeping every image's columns.
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
        let col = Tensor.reuse(columns, shape: [depth, pixels])
        output = out
        columns = col
        self.input = input
        for b in 0..<batch {
            im2col(input.data + b * inChannels * height * width, height, width, into: col.data)
            // out[b] [O, Ho·Wo] = W [O, C·k·k] · col [C·k·k, Ho·Wo]
            BLAS.shared.gemm(transposeA: false, transposeB: false, m: outChannels, n: pixels, k: depth, alpha: 1,
                             a: weight.value.data, lda: depth, b: col.data, ldb: pixels,
                             beta: 0, c: out.data + b * outChannels * pixels, ldc: pixels)
        }
        if let bias {
            for b in 0..<batch {
                for o in 0..<outChannels {
                    let row = out.data + (b * outChannels + o) * pixels
                    let value = bias.value.data[o]
                    for i in 0..<pixels { row[i] += value }
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
        let (weightGradient, firstBeta) = weight.gradientForAccumulation()
        var dx: Tensor?
        var dcol: Tensor?
        if needsInputGradient {
            let gradient = Tensor.reuse(inputGradient, shape: input.shape)
            gradient.fill(0)
            inputGradient = gradient
            dx = gradient
            dcol = Tensor.reuse(columnGradient, shape: [depth, pixels])
            columnGradient = dcol
        }
        for b in 0..<batch {
            let dout = outputGradient.data + b * outChannels * pixels
            im2col(input.data + b * inChannels * height * width, height, width, into: col.data)
            // dW [O, C·k·k] += dout[b] [O, Ho·Wo] · colᵀ
            BLAS.shared.gemm(transposeA: false, transposeB: true, m: outChannels, n: depth, k: pixels, alpha: 1,
                             a: dout, lda: pixels, b: col.data, ldb: pixels,
                             beta: b == 0 ? firstBeta : 1, c: weightGradient.data, ldc: depth)
            if let dx, let dcol {
                // dcol [C·k·k, Ho·Wo] = Wᵀ · dout[b]
                BLAS.shared.gemm(transposeA: true, transposeB: false, m: depth, n: pixels, k: outChannels, alpha: 1,
                                 a: weight.value.data, lda: depth, b: dout, ldb: pixels,
                                 beta: 0, c: dcol.data, ldc: pixels)
                col2im(dcol.data, height, width, into: dx.data + b * inChannels * height * width)
            }
        }
        if let bias {
            let (biasGradient, biasBeta) = bias.gradientForAccumulation()
            if biasBeta == 0 { biasGradient.fill(0) }
            for b in 0..<batch {
                for o in 0..<outChannels {
                    let row = outputGradient.data + (b * outChannels + o) * pixels
                    var sum: Float = 0
                    for i in 0..<pixels { sum += row[i] }
                    biasGradient.data[o] += sum
                }
            }
        }
        return dx
    }

    /// Unrolls one image `[C, H, W]` into `[C·k·k, Ho·Wo]` columns (zeros where the kernel hangs over the edge).
    private func im2col(_ image: UnsafePointer<Float>, _ height: Int, _ width: Int, into col: UnsafeMutablePointer<Float>) {
        let (outHeight, outWidth) = (outputSize(height), outputSize(width))
        var row = 0
        for c in 0..<inChannels {
            let channel = image + c * height * width
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let target = col + row * outHeight * outWidth
                    for oy in 0..<outHeight {
                        let iy = oy * stride - padding + ky
                        let line = target + oy * outWidth
                        guard iy >= 0, iy < height else {
                            line.update(repeating: 0, count: outWidth)
                            continue
                        }
                        for ox in 0..<outWidth {
                            let ix = ox * stride - padding + kx
                            line[ox] = ix >= 0 && ix < width ? channel[iy * width + ix] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// Adds columns back into an image gradient `[C, H, W]` (the adjoint of im2col).
    private func col2im(_ col: UnsafePointer<Float>, _ height: Int, _ width: Int, into image: UnsafeMutablePointer<Float>) {
        let (outHeight, outWidth) = (outputSize(height), outputSize(width))
        var row = 0
        for c in 0..<inChannels {
            let channel = image + c * height * width
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let source = col + row * outHeight * outWidth
                    for oy in 0..<outHeight {
                        let iy = oy * stride - padding + ky
                        guard iy >= 0, iy < height else { continue }
                        for ox in 0..<outWidth {
                            let ix = ox * stride - padding + kx
                            if ix >= 0, ix < width { channel[iy * width + ix] += source[oy * outWidth + ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
