import CKernels
import FashionCore

/// Max pooling over `[B, C, H, W]` with a square window and stride equal to it (`nn.MaxPool2d(k)`,
/// floor mode: a last partial window is dropped). The gradient goes to the maximum of each window.
public final class MaxPool2d: Layer {
    public let size: Int
    private var output: Tensor?
    private var inputGradient: Tensor?
    private var inputShape: [Int] = []
    private var argmax: [Int32] = []

    public init(_ size: Int) { self.size = size }

    public var summary: String { "MaxPool2d(kernel_size=\(size), stride=\(size), padding=0, dilation=1, ceil_mode=False)" }
    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputShape[1] / size, inputShape[2] / size] }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (planes, height, width) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let (outHeight, outWidth) = (height / size, width / size)
        let out = Tensor.reuse(output, shape: [input.shape[0], input.shape[1], outHeight, outWidth])
        output = out
        inputShape = input.shape
        if argmax.count < out.count { argmax = [Int32](repeating: 0, count: out.capacity) }
        let (x, y, size) = (input.data, out.data, self.size)
        argmax.withUnsafeMutableBufferPointer { indices in
            nonisolated(unsafe) let indices = indices
            parallelFor(planes, minimumChunk: 8) { range in
                if size == 2 {
                    let offset = range.lowerBound
                    fl_maxpool2(x + offset * height * width, range.count, height, width,
                                y + offset * outHeight * outWidth, indices.baseAddress! + offset * outHeight * outWidth, offset * height * width)
                    return
                }
                for plane in range {
                    let source = x + plane * height * width
                    for oy in 0..<outHeight {
                        for ox in 0..<outWidth {
                            var best = (oy * size) * width + ox * size
                            for dy in 0..<size {
                                for dx in 0..<size {
                                    let index = (oy * size + dy) * width + ox * size + dx
                                    // NaN propagates, as in PyTorch.
                                    if source[index] > source[best] || source[index].isNaN { best = index }
                                }
                            }
                            let o = (plane * outHeight + oy) * outWidth + ox
                            y[o] = source[best]
                            indices[o] = Int32(plane * height * width + best)
                        }
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
        // Each window's maximum lies in its own plane, so the planes can be split over the threads.
        let (planes, inPlane) = (inputShape[0] * inputShape[1], inputShape[2] * inputShape[3])
        let outPlane = outputGradient.count / max(1, planes)
        let (gradient, dy) = (dx.data, outputGradient.data)
        argmax.withUnsafeBufferPointer { indices in
            nonisolated(unsafe) let indices = indices
            parallelFor(planes, minimumChunk: 8) { range in
                (gradient + range.lowerBound * inPlane).update(repeating: 0, count: range.count * inPlane)
                for o in (range.lowerBound * outPlane)..<(range.upperBound * outPlane) { gradient[Int(indices[o])] += dy[o] }
            }
        }
        return dx
    }
}

// MARK: Model description (`{"type": "MaxPool2d", "kernel_size": 2}`; the stride, if given, must equal the kernel size)

extension MaxPool2d: DescribedLayer {
    public static let layerType = LayerType.squarePooling("MaxPool2d") { MaxPool2d($0) }
    public var layerDescription: LayerDescription { .maxPool2d(size) }
}

extension LayerDescription {
    public static func maxPool2d(_ size: Int) -> LayerDescription { .squarePooling("MaxPool2d", size) }
}
