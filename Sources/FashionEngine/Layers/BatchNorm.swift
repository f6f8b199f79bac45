import CKernels
import FashionCore
import Foundation

/// Batch normalisation over the channels of `[B, C]` (`nn.BatchNorm1d`) or `[B, C, H, W]` (`nn.BatchNorm2d`):
/// in training, normalised by the batch's mean and (biased) variance and the running statistics updated
/// (`momentum` 0.1, unbiased variance), in evaluation by the running statistics; then scaled by `weight`
/// (γ, initially 1) and shifted by `bias` (β, initially 0).
public final class BatchNorm: Layer, AppliesFollowingReLU {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVariance: Buffer
    public let batchesTracked: Buffer
    /// "BatchNorm1d" or "BatchNorm2d", for the summary.
    public let kind: String

    /// Set by `Sequential` when a ReLU follows (`Fusion.swift`): the normalisation then applies max(0, ·)
    /// itself and masks the gradient in its backward pass (the results are the same).
    var appliesReLU = false

    private var output: Tensor?
    private var normalized: Tensor?
    private var inputGradient: Tensor?
    private var inverseStd: [Float] = []

    public init(_ channels: Int, spatial: Bool, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        kind = spatial ? "BatchNorm2d" : "BatchNorm1d"
        weight = Parameter(name: "weight", value: Tensor(shape: [channels], values: [Float](repeating: 1, count: channels)))
        bias = Parameter(name: "bias", value: Tensor(shape: [channels]))
        runningMean = Buffer(name: "running_mean", value: Tensor(shape: [channels]))
        runningVariance = Buffer(name: "running_var", value: Tensor(shape: [channels], values: [Float](repeating: 1, count: channels)))
        batchesTracked = Buffer(name: "num_batches_tracked", value: Tensor(shape: []), isInteger: true)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [runningMean, runningVariance, batchesTracked] }
    public var summary: String { "\(kind)(\(channels), eps=\(epsilon), momentum=\(momentum), affine=True, track_running_stats=True)" }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let batch = input.shape[0]
        precondition(input.shape[1] == channels, "\(kind)(\(channels)) got input of shape \(input.shape)")
        let spatial = input.count / (batch * channels)
        let count = batch * spatial
        let out = Tensor.reuse(output, shape: input.shape)
        let xhat = Tensor.reuse(normalized, shape: input.shape)
        output = out
        normalized = xhat
        if inverseStd.count != channels { inverseStd = [Float](repeating: 0, count: channels) }
        let (x, y, normal) = (input.data, out.data, xhat.data)
        let (runMean, runVar) = (runningMean.value.data, runningVariance.value.data)
        let (gamma, beta) = (weight.value.data, bias.value.data)
        let (channels, momentum, epsilon) = (self.channels, self.momentum, self.epsilon)
        let relu: Int32 = appliesReLU ? 1 : 0
        inverseStd.withUnsafeMutableBufferPointer { inverse in
            nonisolated(unsafe) let inverse = inverse
            // Channels are independent: spread them over the threads.
            parallelFor(channels, minimumChunk: 1) { range in
                for c in range {
                    var mean: Float, variance: Float
                    if training {
                        var m = 0.0, v = 0.0
                        fl_channel_moments(x, batch, channels, spatial, c, &m, &v)
                        mean = Float(m)
                        variance = Float(v)
                        let unbiased = count > 1 ? Float(v * Double(count) / Double(count - 1)) : variance
                        runMean[c] = (1 - momentum) * runMean[c] + momentum * mean
                        runVar[c] = (1 - momentum) * runVar[c] + momentum * unbiased
                    } else {
                        mean = runMean[c]
                        variance = runVar[c]
                    }
                    let invStd = 1 / (variance + epsilon).squareRoot()
                    inverse[c] = invStd
                    fl_batchnorm_apply(x, y, normal, batch, channels, spatial, c, mean, invStd, gamma[c], beta[c], relu)
                }
            }
        }
        if training { batchesTracked.value.data[0] += 1 }
        return out
    }

    /// The gradient of training-mode normalisation:
    /// dx = γ·invstd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let xhat = normalized else { preconditionFailure("BatchNorm.backward before forward") }
        let batch = outputGradient.shape[0]
        let spatial = outputGradient.count / (batch * channels)
        let (weightGradient, weightBeta) = weight.gradientForAccumulation()
        let (biasGradient, biasBeta) = bias.gradientForAccumulation()
        let dx = needsInputGradient ? Tensor.reuse(inputGradient, shape: outputGradient.shape) : nil
        if let dx { inputGradient = dx }
        let (dy, normal, dxData) = (outputGradient.data, xhat.data, dx?.data)
        let (gamma, beta, dGamma, dBeta) = (weight.value.data, bias.value.data, weightGradient.data, biasGradient.data)
        let channels = self.channels
        let relu: Int32 = appliesReLU ? 1 : 0
        inverseStd.withUnsafeBufferPointer { inverse in
            nonisolated(unsafe) let inverse = inverse
            parallelFor(channels, minimumChunk: 1) { range in
                for c in range {
                    var sumDy: Float = 0, sumDyXhat: Float = 0
                    fl_batchnorm_backward(dy, normal, dxData, batch, channels, spatial, c, gamma[c], beta[c], gamma[c] * inverse[c], relu,
                                          &sumDy, &sumDyXhat)
                    dGamma[c] = sumDyXhat + (weightBeta == 0 ? 0 : dGamma[c])
                    dBeta[c] = sumDy + (biasBeta == 0 ? 0 : dBeta[c])
                }
            }
        }
        return dx
    }
}
