extension Linear: CUDARunnable {
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer {
        try context.device.load(.core)
        return CUDALinear(self, context: context)
    }
}

/// `Linear` on the GPU: cuBLAS GEMMs, the bias (and a following ReLU, `appliesReLU`) in one kernel.
final class CUDALinear: CUDALayer {
    let layer: Linear
    let store: CUDAParameterStore
    let work: CUDAWorkspace
    private var input: UInt64 = 0
    private var output: UInt64 = 0

    init(_ layer: Linear, context: CUDALayerContext) {
        self.layer = layer
        store = context.parameters
        work = CUDAWorkspace(device: context.device)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        let (inFeatures, outFeatures, relu) = (layer.inFeatures, layer.outFeatures, layer.appliesReLU)
        self.input = input
        output = try work.buffer("output", rows * outFeatures).address
        // y[B, O] = x[B, I] · W[O, I]ᵀ, then + b and ReLU in one kernel.
        try work.device.gemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                             a: input, lda: inFeatures, b: store.value(layer.weight), ldb: inFeatures, beta: 0, c: output, ldc: outFeatures)
        if let bias = layer.bias {
            try work.device.launch("bias_forward", covering: rows * outFeatures,
                                   [.address(output), .address(store.value(bias)), .int(rows), .int(outFeatures), .int(relu ? 1 : 0)])
        } else if relu {
            try work.device.launch("relu_forward", covering: rows * outFeatures, [.address(output), .address(output), .long(rows * outFeatures)])
        }
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
        let (inFeatures, outFeatures) = (layer.inFeatures, layer.outFeatures)
        var dy = outputGradient
        if layer.appliesReLU {
            // Through the fused ReLU first.
            let gradient = try work.buffer("reluGradient", rows * outFeatures).address
            try work.device.launch("relu_backward", covering: rows * outFeatures,
                                   [.address(gradient), .address(dy), .address(output), .long(rows * outFeatures)])
            dy = gradient
        }
        // dx first: it needs the weights before a fused update changes them.
        var dx: UInt64?
        if needsInputGradient {
            let gradient = try work.buffer("inputGradient", rows * inFeatures).address
            // dx[B, I] = dy[B, O] · W[O, I]
            try work.device.gemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
                                 a: dy, lda: outFeatures, b: store.value(layer.weight), ldb: inFeatures, beta: 0, c: gradient, ldc: inFeatures)
            dx = gradient
        }
        // dW[O, I] = dy[B, O]ᵀ · x[B, I]   (fused SGD: W −= rate · dy[B, O]ᵀ · x[B, I])
        try work.device.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                             alpha: sgdRate.map { -$0 } ?? 1, a: dy, lda: outFeatures, b: input, ldb: inFeatures,
                             beta: sgdRate != nil ? 1 : 0,
                             c: sgdRate != nil ? store.value(layer.weight) : store.gradient(layer.weight), ldc: inFeatures)
        if let bias = layer.bias {
            try work.device.launch("channel_sum", covering: outFeatures, [
                .address(sgdRate != nil ? store.value(bias) : store.gradient(bias)), .address(dy), .int(rows), .int(outFeatures), .int(1),
                .float(sgdRate.map { -$0 } ?? 1), .float(sgdRate != nil ? 1 : 0),
            ])
        }
        return dx
    }
}
