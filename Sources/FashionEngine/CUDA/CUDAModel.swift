/// A `Sequential` of fully connected layers computed on the GPU: the train_gpt2.cu to the CPU layers'
/// train_gpt2.c. Every parameter lives in one device buffer (state_dict order) and every gradient in
/// another, so an optimiser step is one kernel launch.
///
/// Runs `Linear`, `ReLU` (fused into the bias kernel of the Linear before it) and `Flatten`; other
/// layers are CPU-only in this version (`unsupportedLayer(in:)` names the first).
public final class CUDAModel {
    /// One Linear layer (with the ReLU after it, when there is one).
    struct Dense {
        let inFeatures: Int
        let outFeatures: Int
        let weightOffset: Int
        let biasOffset: Int?
        let relu: Bool
    }

    public let device: CUDADevice
    /// The host model: its parameters are uploaded from and downloaded to it.
    public let host: Sequential
    /// Every parameter, flat, in `host.parameters` order.
    public let parameters: DeviceBuffer
    /// Their gradients, laid out the same way.
    public let gradients: DeviceBuffer
    /// Where each host parameter starts in `parameters`.
    public let offsets: [Int]
    /// Total number of parameter values.
    public let parameterCount: Int
    let layers: [Dense]
    /// Output of each layer (after its ReLU), and the gradient with respect to it; sized for `capacity` rows.
    private var outputs: [DeviceBuffer] = []
    private var outputGradients: [DeviceBuffer] = []
    private(set) var capacity = 0

    /// The first layer of `model` that the GPU backend cannot run, or nil when it runs them all.
    public static func unsupportedLayer(in model: Sequential) -> String? {
        model.layers.first { !($0 is Linear || $0 is ReLU || $0 is Flatten) }.map { $0.summary }
    }

    public init(_ model: Sequential, device: CUDADevice) throws {
        if let layer = Self.unsupportedLayer(in: model) {
            throw CUDAError(message: "the CUDA backend of this version runs Linear, ReLU and Flatten layers, not \(layer)")
        }
        self.device = device
        host = model
        var offsets: [Int] = [], total = 0
        for parameter in model.parameters {
            offsets.append(total)
            total += parameter.value.count
        }
        self.offsets = offsets
        parameterCount = total
        parameters = try device.allocate(total)
        gradients = try device.allocate(total)

        var dense: [Dense] = []
        var parameterIndex = 0
        for layer in model.layers {
            if let linear = layer as? Linear {
                dense.append(Dense(inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, weightOffset: offsets[parameterIndex],
                                   biasOffset: linear.bias != nil ? offsets[parameterIndex + 1] : nil, relu: false))
                parameterIndex += linear.parameters.count
            } else if layer is ReLU {
                if let last = dense.last, !last.relu {
                    dense[dense.count - 1] = Dense(inFeatures: last.inFeatures, outFeatures: last.outFeatures, weightOffset: last.weightOffset,
                                                   biasOffset: last.biasOffset, relu: true)
                } else {
                    throw CUDAError(message: "the CUDA backend runs ReLU only right after a Linear layer")
                }
            }
        }
        layers = dense
        try upload()
    }

    /// Copies the host model's parameters to the GPU.
    public func upload() throws {
        for (parameter, offset) in zip(host.parameters, offsets) {
            try device.upload(parameter.value.data, count: parameter.value.count, to: parameters, offset: offset)
        }
    }

    /// Copies the GPU's parameters back into the host model (for checkpoints, charts and the CPU).
    public func download() throws {
        for (parameter, offset) in zip(host.parameters, offsets) {
            try device.download(parameters, offset: offset, count: parameter.value.count, into: parameter.value.data)
        }
    }

    /// Activation buffers for batches of up to `rows`.
    private func reserve(rows: Int) throws {
        guard rows > capacity else { return }
        outputs = try layers.map { try device.allocate(rows * $0.outFeatures) }
        outputGradients = try layers.map { try device.allocate(rows * $0.outFeatures) }
        capacity = rows
    }

    /// The logits `[rows, classes]` of the inputs `[rows, features]` at `input` (a device address).
    public func forward(input: UInt64, rows: Int) throws -> UInt64 {
        try reserve(rows: rows)
        var x = input
        for (index, layer) in layers.enumerated() {
            let y = outputs[index].address
            // y[B, O] = x[B, I] · W[O, I]ᵀ, then + b and ReLU in one kernel.
            try device.gemm(transposeA: false, transposeB: true, m: rows, n: layer.outFeatures, k: layer.inFeatures, alpha: 1,
                            a: x, lda: layer.inFeatures, b: parameters.address(at: layer.weightOffset), ldb: layer.inFeatures,
                            beta: 0, c: y, ldc: layer.outFeatures)
            if let biasOffset = layer.biasOffset {
                try device.launch("bias_forward", covering: rows * layer.outFeatures,
                                  [.address(y), .address(parameters.address(at: biasOffset)), .int(rows), .int(layer.outFeatures),
                                   .int(layer.relu ? 1 : 0)])
            } else if layer.relu {
                try device.launch("relu_forward", covering: rows * layer.outFeatures, [.address(y), .address(y), .long(rows * layer.outFeatures)])
            }
            x = y
        }
        return x
    }

    /// Back-propagates `logitsGradient` (`[rows, classes]` at a device address) through the layers of the
    /// last `forward`, writing every parameter's gradient (overwriting, not accumulating). With
    /// `fusedSGDRate`, applies plain SGD inside the weight-gradient GEMMs instead (as the CPU layers do).
    public func backward(logitsGradient: UInt64, input: UInt64, rows: Int, fusedSGDRate: Float? = nil) throws {
        var dy = logitsGradient
        for index in layers.indices.reversed() {
            let layer = layers[index]
            if layer.relu {
                // dy is the gradient of the ReLU's output; through the ReLU, in place.
                let target = outputGradients[index].address
                try device.launch("relu_backward", covering: rows * layer.outFeatures,
                                  [.address(target), .address(dy), .address(outputs[index].address), .long(rows * layer.outFeatures)])
                dy = target
            }
            let x = index > 0 ? outputs[index - 1].address : input
            // dx first: it needs the weights before a fused update changes them.
            var dx: UInt64?
            if index > 0 {
                dx = outputGradients[index - 1].address
                // dx[B, I] = dy[B, O] · W[O, I]
                try device.gemm(transposeA: false, transposeB: false, m: rows, n: layer.inFeatures, k: layer.outFeatures, alpha: 1,
                                a: dy, lda: layer.outFeatures, b: parameters.address(at: layer.weightOffset), ldb: layer.inFeatures,
                                beta: 0, c: dx!, ldc: layer.inFeatures)
            }
            // dW[O, I] = dy[B, O]ᵀ · x[B, I]   (fused SGD: W −= rate · dy[B, O]ᵀ · x[B, I])
            let weightTarget = (fusedSGDRate != nil ? parameters : gradients).address(at: layer.weightOffset)
            try device.gemm(transposeA: true, transposeB: false, m: layer.outFeatures, n: layer.inFeatures, k: rows,
                            alpha: fusedSGDRate.map { -$0 } ?? 1, a: dy, lda: layer.outFeatures, b: x, ldb: layer.inFeatures,
                            beta: fusedSGDRate != nil ? 1 : 0, c: weightTarget, ldc: layer.inFeatures)
            if let biasOffset = layer.biasOffset {
                let biasTarget = (fusedSGDRate != nil ? parameters : gradients).address(at: biasOffset)
                try device.launch("bias_backward", covering: layer.outFeatures,
                                  [.address(biasTarget), .address(dy), .int(rows), .int(layer.outFeatures),
                                   .float(fusedSGDRate.map { -$0 } ?? 1), .float(fusedSGDRate != nil ? 1 : 0)])
            }
            if let dx { dy = dx }
        }
    }
}
