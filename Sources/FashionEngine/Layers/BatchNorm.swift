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

    private var input: Tensor?
    private var output: Tensor?
    private var inputGradient: Tensor?
    /// Per channel: the mean and 1/√(variance + ε) the last forward pass normalised with, the batch's variances
    /// (biased and unbiased), and the backward pass's sums Σdy and Σdy·x̂.
    private let mean, inverseStd, batchVariance, unbiasedVariance, sumDy, sumDyXhat: Tensor

    /// How many channels the forward pass takes at a time: their statistics and normalisation in one go, while
    /// their values (about 200 KB a channel for the CNNs' batches) are still in the core's L2 cache.
    private static let channelsPerPass = 4

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
        (mean, inverseStd, batchVariance, unbiasedVariance, sumDy, sumDyXhat) = (Tensor(shape: [channels]), Tensor(shape: [channels]),
            Tensor(shape: [channels]), Tensor(shape: [channels]), Tensor(shape: [channels]), Tensor(shape: [channels]))
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [runningMean, runningVariance, batchesTracked] }
    public var summary: String { "\(kind)(\(channels), eps=\(epsilon), momentum=\(momentum), affine=True, track_running_stats=True)" }
    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let batch = input.shape[0]
        precondition(input.shape[1] == channels, "\(kind)(\(channels)) got input of shape \(input.shape)")
        let spatial = input.count / (batch * channels)
        let out = Tensor.reuse(output, shape: input.shape)
        output = out
        // The backward pass recomputes x̂ = (x − mean)·invstd from the input rather than storing it.
        self.input = input
        let (x, y, means, inverse) = (input.data, out.data, mean.data, inverseStd.data)
        let (variances, unbiasedVariances) = (batchVariance.data, unbiasedVariance.data)
        let (runMean, runVar) = (runningMean.value.data, runningVariance.value.data)
        let (gamma, beta) = (weight.value.data, bias.value.data)
        let (channels, momentum, epsilon) = (self.channels, self.momentum, self.epsilon)
        let relu: Int32 = appliesReLU ? 1 : 0
        // Channels are independent: spread them over the threads.
        parallelFor(channels, minimumChunk: 1) { range in
            for first in stride(from: range.lowerBound, to: range.upperBound, by: Self.channelsPerPass) {
                let group = first..<min(first + Self.channelsPerPass, range.upperBound)
                if training {
                    fl_batchnorm_moments(x, batch, channels, spatial, group.lowerBound, group.upperBound, means, variances, unbiasedVariances)
                }
                for c in group {
                    if training {
                        runMean[c] = (1 - momentum) * runMean[c] + momentum * means[c]
                        runVar[c] = (1 - momentum) * runVar[c] + momentum * unbiasedVariances[c]
                    } else {
                        means[c] = runMean[c]
                    }
                    inverse[c] = 1 / ((training ? variances[c] : runVar[c]) + epsilon).squareRoot()
                }
                fl_batchnorm_apply(x, y, batch, channels, spatial, group.lowerBound, group.upperBound, means, inverse, gamma, beta, relu)
            }
        }
        if training { batchesTracked.value.data[0] += 1 }
        return out
    }

    /// The gradient of training-mode normalisation:
    /// dx = γ·invstd/N · (N·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input else { preconditionFailure("BatchNorm.backward before forward") }
        let batch = outputGradient.shape[0]
        let spatial = outputGradient.count / (batch * channels)
        let (weightGradient, weightBeta) = weight.gradientForAccumulation()
        let (biasGradient, biasBeta) = bias.gradientForAccumulation()
        let dx = needsInputGradient ? Tensor.reuse(inputGradient, shape: outputGradient.shape) : nil
        if let dx { inputGradient = dx }
        let (dy, x, dxData) = (outputGradient.data, input.data, dx?.data)
        let (gamma, beta, dGamma, dBeta) = (weight.value.data, bias.value.data, weightGradient.data, biasGradient.data)
        let (means, inverse, sumDy, sumDyXhat) = (mean.data, inverseStd.data, self.sumDy.data, self.sumDyXhat.data)
        let channels = self.channels
        let relu: Int32 = appliesReLU ? 1 : 0
        parallelFor(channels, minimumChunk: 1) { range in
            fl_batchnorm_backward(dy, x, dxData, batch, channels, spatial, range.lowerBound, range.upperBound, means, inverse, gamma, beta, relu,
                                  sumDy, sumDyXhat)
            for c in range {
                dGamma[c] = sumDyXhat[c] + (weightBeta == 0 ? 0 : dGamma[c])
                dBeta[c] = sumDy[c] + (biasBeta == 0 ? 0 : dBeta[c])
            }
        }
        return dx
    }
}

// MARK: Model description (`{"type": "BatchNorm2d", "num_features": 32, "eps": 1e-05, "momentum": 0.1}`, and
// BatchNorm1d on flat inputs)

extension BatchNorm: DescribedLayer {
    public static let layerType1d = describedType(spatial: false)
    public static let layerType2d = describedType(spatial: true)

    private static func describedType(spatial: Bool) -> LayerType {
        LayerType(
            name: spatial ? "BatchNorm2d" : "BatchNorm1d",
            settings: [LayerSetting("num_features", .int), LayerSetting("eps", .number, default: .value(.number(1e-5))),
                       LayerSetting("momentum", .number, default: .value(.number(0.1)))],
            check: { description, input in
                let features = try ShapeCheck.size(description, "num_features")
                let channels: Int
                if spatial {
                    channels = try ShapeCheck.image(input).channels
                } else {
                    guard input.count == 1 else { throw LayerProblem("needs a flat [C] input, got \(input) (BatchNorm2d normalises images)") }
                    channels = input[0]
                }
                guard features == channels else { throw LayerProblem("num_features \(features) does not match its input's \(channels) channels (\(input))") }
                let (eps, momentum) = (description.number("eps"), description.number("momentum"))
                guard eps > 0 else { throw LayerProblem("eps must be positive, got \(eps)") }
                guard momentum >= 0, momentum <= 1 else { throw LayerProblem("momentum must be in [0, 1], got \(momentum)") }
                return LayerShape(output: input, parameters: 2 * features, buffers: 2 * features + 1)
            },
            make: { description, _, _ in
                BatchNorm(description.int("num_features"), spatial: spatial, epsilon: Float(description.number("eps")),
                          momentum: Float(description.number("momentum")))
            })
    }

    public var layerDescription: LayerDescription {
        kind == "BatchNorm2d" ? .batchNorm2d(channels, eps: epsilon, momentum: momentum) : .batchNorm1d(channels, eps: epsilon, momentum: momentum)
    }
}

extension LayerDescription {
    public static func batchNorm2d(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) -> LayerDescription {
        LayerDescription(type: "BatchNorm2d", arguments: ["num_features": .int(features), "eps": .decimal(eps), "momentum": .decimal(momentum)])
    }

    public static func batchNorm1d(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) -> LayerDescription {
        LayerDescription(type: "BatchNorm1d", arguments: ["num_features": .int(features), "eps": .decimal(eps), "momentum": .decimal(momentum)])
    }
}
