import FashionCore

/// Average pooling over `[B, C, H, W]` with a square window and stride equal to it (`nn.AvgPool2d(k)`: no padding,
/// floor mode, so a last partial window is dropped). Each output is its window's mean; the gradient spreads each
/// output's gradient evenly over its window.
public final class AvgPool2d: Layer {
    public let size: Int
    private var output: Tensor?
    private var inputGradient: Tensor?
    private var inputShape: [Int] = []

    public init(_ size: Int) {
        precondition(size > 0, "the pooling window must be at least 1×1")
        self.size = size
    }

    public var summary: String { "AvgPool2d(kernel_size=\(size), stride=\(size), padding=0)" }
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputShape[1] / size, inputShape[2] / size] }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let (outHeight, outWidth) = (height / size, width / size)
        let out = Tensor.reuse(output, shape: [input.shape[0], input.shape[1], outHeight, outWidth])
        output = out
        inputShape = input.shape
        let (x, y, size) = (input.data, out.data, self.size)
        let scale = 1 / Float(size * size)
        // Planes are independent: spread them over the threads.
        parallelFor(planes, minimumChunk: 8) { range in
            for plane in range {
                let source = x + plane * height * width, target = y + plane * outHeight * outWidth
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        // Summed row by row in the window, as PyTorch's CPU kernel does.
                        var sum: Float = 0
                        for dy in 0..<size {
                            for dx in 0..<size { sum += source[(oy * size + dy) * width + ox * size + dx] }
                        }
                        target[oy * outWidth + ox] = sum * scale
                    }
                }
            }
        }
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        let dx = Tensor.reuse(inputGradient, shape: inputShape)
        inputGradient = dx
        let (planes, height, width) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
        let (outHeight, outWidth) = (height / size, width / size)
        let (gradient, dy, size) = (dx.data, outputGradient.data, self.size)
        let scale = 1 / Float(size * size)
        parallelFor(planes, minimumChunk: 8) { range in
            for plane in range {
                let target = gradient + plane * height * width, source = dy + plane * outHeight * outWidth
                for y in 0..<height {
                    for x in 0..<width {
                        // Rows and columns past the last whole window took no part in the forward pass.
                        let (oy, ox) = (y / size, x / size)
                        target[y * width + x] = oy < outHeight && ox < outWidth ? source[oy * outWidth + ox] * scale : 0
                    }
                }
            }
        }
        return dx
    }
}

extension AvgPool2d: DescribedLayer {
    public static let layerType = LayerType.squarePooling("AvgPool2d") { AvgPool2d($0) }
    public var layerDescription: LayerDescription { .avgPool2d(size) }
}

extension LayerDescription {
    public static func avgPool2d(_ size: Int) -> LayerDescription { .squarePooling("AvgPool2d", size) }
}
