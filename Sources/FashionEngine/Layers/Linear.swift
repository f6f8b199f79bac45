import FashionCore

/// A fully connected layer: `y = x · Wᵀ + b`, with `W` of shape `[out, in]` as in PyTorch.
///
/// Initialised as `nn.Linear`: weight and bias both ~ U(−1/√in, 1/√in).
public final class Linear: Layer, AppliesFollowingReLU, UpdatesInBackward {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// Set by `Sequential` when a ReLU follows (`Fusion.swift`): the bias pass rectifies, the backward pass
    /// masks the gradient first.
    var appliesReLU = false

    private var input: Tensor?
    private var output: Tensor?
    private var inputGradient: Tensor?
    private var maskedGradient: Tensor?

    /// A layer from `inFeatures` to `outFeatures`, its weights (and bias) drawn from `generator` as PyTorch draws them.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, using generator: inout SeededGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(name: "weight", value: Initializers.uniform(shape: [outFeatures, inFeatures], bound: bound, using: &generator))
        self.bias = bias ? Parameter(name: "bias", value: Initializers.uniform(shape: [outFeatures], bound: bound, using: &generator)) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public func outputShape(for inputShape: [Int]) -> [Int] { [outFeatures] }
    public var summary: String { "Linear(in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias != nil ? "True" : "False"))" }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let batch = input.shape[0]
        precondition(input.count == batch * inFeatures, "Linear(\(inFeatures), …) got input of shape \(input.shape)")
        let out = Tensor.reuse(output, shape: [batch, outFeatures])
        output = out
        self.input = input
        // out[B, O] = x[B, I] · W[O, I]ᵀ + b, then the fused ReLU
        BLAS.shared.gemm(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures, alpha: 1,
                         a: input.data, lda: inFeatures, b: weight.value.data, ldb: inFeatures,
                         beta: 0, c: out.data, ldc: outFeatures, bias: bias?.value.data, relu: appliesReLU)
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        backward(outputGradient, needsInputGradient: needsInputGradient, sgdRate: nil)
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, sgdRate: Float) -> Tensor? {
        backward(outputGradient, needsInputGradient: needsInputGradient, sgdRate: Optional(sgdRate))
    }

    /// Both backward passes: with `sgdRate`, the weight-gradient GEMM writes `W −= rate · dWᵀ` straight into the
    /// weights (alpha = −rate, beta = 1) and the bias is updated the same way, instead of storing gradients.
    private func backward(_ outputGradient: Tensor, needsInputGradient: Bool, sgdRate: Float?) -> Tensor? {
        guard let input, let output else { preconditionFailure("Linear.backward before forward") }
        let batch = outputGradient.shape[0]
        var dy = outputGradient
        if appliesReLU {
            // Through the fused ReLU first: dy = 0 where the output is ≤ 0.
            dy = Tensor.reuse(maskedGradient, shape: outputGradient.shape)
            maskedGradient = dy
            Kernels.reluBackward(dy, outputGradient, output: output)
        }
        // dx first: it needs the weights as they were in the forward pass, and a fused SGD update below changes them.
        var dx: Tensor?
        if needsInputGradient {
            // dx[B, I] = dy[B, O] · W[O, I]
            let gradient = Tensor.reuse(inputGradient, shape: input.shape)
            inputGradient = gradient
            BLAS.shared.gemm(transposeA: false, transposeB: false, m: batch, n: inFeatures, k: outFeatures, alpha: 1,
                             a: dy.data, lda: outFeatures, b: weight.value.data, ldb: inFeatures,
                             beta: 0, c: gradient.data, ldc: inFeatures)
            dx = gradient
        }
        // dW[O, I] += dy[B, O]ᵀ · x[B, I]   (fused SGD: W[O, I] −= rate · dy[B, O]ᵀ · x[B, I])
        let (target, alpha, beta): (Tensor, Float, Float)
        if let sgdRate {
            (target, alpha, beta) = (weight.value, -sgdRate, 1)
        } else {
            let (gradient, accumulate) = weight.gradientForAccumulation()
            (target, alpha, beta) = (gradient, 1, accumulate)
        }
        BLAS.shared.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: batch, alpha: alpha,
                         a: dy.data, lda: outFeatures, b: input.data, ldb: inFeatures,
                         beta: beta, c: target.data, ldc: inFeatures)
        if let bias {
            let (biasGradient, biasBeta) = bias.gradientForAccumulation()
            Kernels.sumRows(dy, into: biasGradient, accumulate: biasBeta == 1 && sgdRate == nil)
            if let sgdRate { Kernels.axpy(-sgdRate, biasGradient, into: bias.value) }
        }
        return dx
    }
}

// MARK: Model description (`{"type": "Linear", "in_features": 784, "out_features": 10, "bias": true}`)

extension Linear: DescribedLayer {
    public static let layerType = LayerType(
        name: "Linear",
        settings: [LayerSetting("in_features", .int), LayerSetting("out_features", .int), LayerSetting("bias", .bool, default: .value(.bool(true)))],
        check: { description, input in
            let (inputs, outputs) = (try ShapeCheck.size(description, "in_features"), try ShapeCheck.size(description, "out_features"))
            let values = try ShapeCheck.product(input, "its input")
            guard input.count == 1 else {
                throw LayerProblem(values == inputs
                    ? "its input \(input) is not flat: add a Flatten before it"
                    : "in_features \(inputs) does not match its input, \(values) values (\(input)); a Linear after [C, H, W] needs a Flatten first")
            }
            guard values == inputs else { throw LayerProblem("in_features \(inputs) does not match its input, \(values) values (\(input))") }
            let weights = try ShapeCheck.product([inputs, outputs], "its weight [\(outputs), \(inputs)]")
            return LayerShape(output: [outputs], parameters: try ShapeCheck.sum(weights, description.bool("bias") ? outputs : 0, "its parameter count"))
        },
        make: { description, _, builder in
            Linear(description.int("in_features"), description.int("out_features"), bias: description.bool("bias"), using: &builder.generator)
        })

    public var layerDescription: LayerDescription { .linear(inFeatures, outFeatures, bias: bias != nil) }
}

extension LayerDescription {
    public static func linear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) -> LayerDescription {
        LayerDescription(type: "Linear", arguments: ["in_features": .int(inFeatures), "out_features": .int(outFeatures), "bias": .bool(bias)])
    }
}
