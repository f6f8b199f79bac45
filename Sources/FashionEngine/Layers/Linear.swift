import FashionCore

/// A fully connected layer: `y = x · Wᵀ + b`, with `W` of shape `[out, in]` as in PyTorch.
///
/// Initialised as `nn.Linear`: weight and bias both ~ U(−1/√in, 1/√in).
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?

    private var input: Tensor?
    private var output: Tensor?
    private var inputGradient: Tensor?

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
        // out[B, O] = x[B, I] · W[O, I]ᵀ
        BLAS.shared.gemm(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures, alpha: 1,
                         a: input.data, lda: inFeatures, b: weight.value.data, ldb: inFeatures,
                         beta: 0, c: out.data, ldc: outFeatures)
        if let bias { Kernels.addRowVector(out, bias.value) }
        return out
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let input else { preconditionFailure("Linear.backward before forward") }
        let batch = outputGradient.shape[0]
        // dx first: it needs the weights as they were in the forward pass, and a fused SGD
        // update below changes them.
        var dx: Tensor?
        if needsInputGradient {
            // dx[B, I] = dout[B, O] · W[O, I]
            let gradient = Tensor.reuse(inputGradient, shape: input.shape)
            inputGradient = gradient
            BLAS.shared.gemm(transposeA: false, transposeB: false, m: batch, n: inFeatures, k: outFeatures, alpha: 1,
                             a: outputGradient.data, lda: outFeatures, b: weight.value.data, ldb: inFeatures,
                             beta: 0, c: gradient.data, ldc: inFeatures)
            dx = gradient
        }
        // dW[O, I] += dout[B, O]ᵀ · x[B, I]   (or, fused SGD: W[O, I] −= lr · dout[B, O]ᵀ · x[B, I])
        let (target, alpha, beta) = Self.gradientTarget(weight)
        BLAS.shared.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: batch, alpha: alpha,
                         a: outputGradient.data, lda: outFeatures, b: input.data, ldb: inFeatures,
                         beta: beta, c: target.data, ldc: inFeatures)
        if let bias {
            let (biasGradient, biasBeta) = bias.gradientForAccumulation()
            Kernels.sumRows(outputGradient, into: biasGradient, accumulate: biasBeta == 1)
            if let rate = bias.fusedSGDRate {
                Kernels.axpy(-rate, biasGradient, into: bias.value)
                bias.wasUpdatedInBackward = true
            }
        }
        return dx
    }

    /// Where the weight-gradient GEMM writes: the gradient (accumulating when it holds one), or,
    /// with fused SGD, the weights themselves scaled by −rate.
    private static func gradientTarget(_ parameter: Parameter) -> (Tensor, alpha: Float, beta: Float) {
        if let rate = parameter.fusedSGDRate {
            parameter.wasUpdatedInBackward = true
            return (parameter.value, -rate, 1)
        }
        let (gradient, beta) = parameter.gradientForAccumulation()
        return (gradient, 1, beta)
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
