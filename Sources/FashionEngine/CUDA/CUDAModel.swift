/// A `Sequential` computed on the GPU: the train_gpt2.cu to the CPU layers' train_gpt2.c, one `CUDALayer`
/// per layer (a Linear and the ReLU after it fused). Every parameter lives in one device buffer
/// (`state_dict` order) and every gradient in another, so an optimiser step is one kernel launch.
///
/// Runs every layer the CPU backend has: Linear, ReLU, Conv2d, BatchNorm, MaxPool2d, Dropout,
/// GlobalAveragePool and Flatten.
public final class CUDAModel {
    public let device: CUDADevice
    /// The host model: parameters and BatchNorm statistics are uploaded from and downloaded to it.
    public let host: Sequential
    /// Every parameter, flat, in `host.parameters` order.
    public let parameters: DeviceBuffer
    /// Their gradients, laid out the same way.
    public let gradients: DeviceBuffer
    /// Where each host parameter starts in `parameters`.
    public let offsets: [Int]
    /// Total number of parameter values.
    public let parameterCount: Int
    /// True when every layer with parameters is a Linear, whose backward pass can apply plain SGD itself.
    public let canFuseSGD: Bool
    /// Per image, how many values each GPU layer takes in (a Linear and its fused ReLU are one layer).
    public let inputSizes: [Int]
    private let layers: [CUDALayer]

    /// The first layer of `model` that the GPU backend cannot run, or nil when it runs them all.
    public static func unsupportedLayer(in model: Sequential) -> String? {
        model.layers.first { layer in
            !(layer is Linear || layer is ReLU || layer is Flatten || layer is Conv2d || layer is BatchNorm || layer is MaxPool2d
                || layer is Dropout || layer is GlobalAveragePool)
        }.map { $0.summary }
    }

    public init(_ model: Sequential, device: CUDADevice) throws {
        if let layer = Self.unsupportedLayer(in: model) {
            throw CUDAError(message: "the CUDA backend has no GPU version of \(layer)")
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
        let store = CUDAParameterStore(values: parameters, gradients: gradients, offsets: Dictionary(
            uniqueKeysWithValues: zip(model.parameters.map(ObjectIdentifier.init), offsets)))

        var layers: [CUDALayer] = []
        var inputSizes: [Int] = []
        var shape = model.inputShape
        var index = 0
        while index < model.layers.count {
            let layer = model.layers[index]
            let size = shape.reduce(1, *)
            if !(layer is Flatten) { inputSizes.append(size) }
            switch layer {
            case let linear as Linear:
                let relu = index + 1 < model.layers.count && model.layers[index + 1] is ReLU
                layers.append(CUDALinear(linear, relu: relu, store: store, device: device))
                if relu {
                    // The ReLU's output shape (below) is that of the Linear's output.
                    shape = linear.outputShape(for: shape)
                    index += 1
                }
            case is ReLU: layers.append(CUDAReLU(size: size, device: device))
            case let conv as Conv2d: layers.append(CUDAConv2d(conv, inputShape: shape, store: store, device: device))
            case let norm as BatchNorm: layers.append(try CUDABatchNorm(norm, inputShape: shape, store: store, device: device))
            case let pool as MaxPool2d: layers.append(CUDAMaxPool2d(pool, inputShape: shape, device: device))
            case let dropout as Dropout: layers.append(CUDADropout(dropout, size: size, device: device))
            case is GlobalAveragePool: layers.append(CUDAGlobalAveragePool(inputShape: shape, device: device))
            default: break  // Flatten: the memory is already laid out as the next layer wants it
            }
            shape = model.layers[index].outputShape(for: shape)
            index += 1
        }
        self.layers = layers
        self.inputSizes = inputSizes
        canFuseSGD = model.layers.allSatisfy { $0.parameters.isEmpty || $0 is Linear }
        try upload()
    }

    /// Copies the host model's parameters and BatchNorm statistics to the GPU.
    public func upload() throws {
        for (parameter, offset) in zip(host.parameters, offsets) {
            try device.upload(parameter.value.data, count: parameter.value.count, to: parameters, offset: offset)
        }
        for layer in layers { try layer.uploadState() }
    }

    /// Copies the GPU's parameters and BatchNorm statistics back into the host model (for checkpoints,
    /// charts and the CPU).
    public func download() throws {
        for (parameter, offset) in zip(host.parameters, offsets) {
            try device.download(parameters, offset: offset, count: parameter.value.count, into: parameter.value.data)
        }
        for layer in layers { try layer.downloadState() }
    }

    /// The logits `[rows, classes]` of the inputs `[rows] + inputShape` at `input` (a device address).
    public func forward(input: UInt64, rows: Int, training: Bool = true) throws -> UInt64 {
        try layers.reduce(input) { try $1.forward($0, rows: rows, training: training) }
    }

    /// Back-propagates `outputGradient` (`[rows, classes]` at a device address) through the layers of the
    /// last `forward`, writing every parameter's gradient (overwriting, not accumulating), and returns the
    /// input gradient's address when asked for it. With `fusedSGDRate` (only when `canFuseSGD`), applies
    /// plain SGD inside the weight-gradient GEMMs instead.
    @discardableResult
    public func backward(outputGradient: UInt64, rows: Int, fusedSGDRate: Float? = nil, needsInputGradient: Bool = false) throws -> UInt64? {
        precondition(fusedSGDRate == nil || canFuseSGD, "fused SGD on a model with layers that cannot apply it")
        var gradient: UInt64? = outputGradient
        for (index, layer) in layers.enumerated().reversed() {
            gradient = try layer.backward(gradient!, rows: rows, needsInputGradient: index > 0 || needsInputGradient, fusedSGDRate: fusedSGDRate)
            if gradient == nil { break }
        }
        return gradient
    }
}
