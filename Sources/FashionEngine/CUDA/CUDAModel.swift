/// A `Sequential` computed on the GPU: the train_gpt2.cu to the CPU layers' train_gpt2.c, one GPU half per layer
/// (`CUDARunnable`, declared beside each layer). Every parameter lives in one device buffer (`state_dict` order)
/// and every gradient in another, so an optimiser step is one kernel launch.
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
    /// The shape of one image's input to each layer, as its GPU half was made for it.
    public let inputShapes: [[Int]]
    /// Each host layer with its GPU half.
    private let layers: [(host: Layer, gpu: CUDALayer)]

    /// The first layer of `model` that has no GPU half, or nil when every layer has one.
    public static func unsupportedLayer(in model: Sequential) -> String? {
        model.layers.first { !($0 is CUDARunnable) }.map(\.summary)
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
        let context = CUDALayerContext(device: device, parameters: CUDAParameterStore(
            values: parameters, gradients: gradients,
            offsets: Dictionary(uniqueKeysWithValues: zip(model.parameters.map(ObjectIdentifier.init), offsets))))
        var layers: [(host: Layer, gpu: CUDALayer)] = [], shapes: [[Int]] = []
        var shape = model.inputShape
        for layer in model.layers {
            layers.append((layer, try (layer as! CUDARunnable).makeCUDALayer(inputShape: shape, context: context)))
            shapes.append(shape)
            shape = layer.outputShape(for: shape)
        }
        self.layers = layers
        inputShapes = shapes
        try upload()
    }

    /// Copies the host model's parameters and BatchNorm statistics to the GPU.
    public func upload() throws {
        for (parameter, offset) in zip(host.parameters, offsets) {
            try device.upload(parameter.value.data, count: parameter.value.count, to: parameters, offset: offset)
        }
        for layer in layers { try layer.gpu.uploadState() }
    }

    /// Copies the GPU's parameters and BatchNorm statistics back into the host model (for checkpoints,
    /// charts and the CPU).
    public func download() throws {
        for (parameter, offset) in zip(host.parameters, offsets) {
            try device.download(parameters, offset: offset, count: parameter.value.count, into: parameter.value.data)
        }
        for layer in layers { try layer.gpu.downloadState() }
    }

    /// The logits `[rows, classes]` of the inputs `[rows] + inputShape` at `input` (a device address).
    public func forward(input: UInt64, rows: Int, training: Bool = true) throws -> UInt64 {
        try layers.reduce(input) { try $1.gpu.forward($0, rows: rows, training: training) }
    }

    /// Back-propagates `outputGradient` (`[rows, classes]` at a device address) through the layers of the
    /// last `forward`, writing every parameter's gradient (overwriting, not accumulating), and returns the
    /// input gradient's address when asked for it. With `sgdRate`, the layers that `UpdateInBackward` apply
    /// plain SGD to their parameters instead (as on the CPU: `Sequential.backward(_:sgdRate:)`).
    @discardableResult
    public func backward(outputGradient: UInt64, rows: Int, sgdRate: Float? = nil, needsInputGradient: Bool = false) throws -> UInt64? {
        var gradient: UInt64? = outputGradient
        for (index, layer) in layers.enumerated().reversed() {
            let rate = layer.host is UpdatesInBackward ? sgdRate : nil
            gradient = try layer.gpu.backward(gradient!, rows: rows, needsInputGradient: index > 0 || needsInputGradient, sgdRate: rate)
            if gradient == nil { break }
        }
        return gradient
    }

    /// The ranges of `parameters` an optimiser updates after a backward pass with `sgdRate`, merged where they
    /// touch: everything without it, the parameters of `Sequential.parametersLeftToOptimizer` with it.
    public func rangesLeftToOptimizer(sgdRate: Float?) -> [Range<Int>] {
        let left = Set(host.parametersLeftToOptimizer(sgdRate: sgdRate).map(ObjectIdentifier.init))
        var ranges: [Range<Int>] = []
        for (parameter, offset) in zip(host.parameters, offsets) where left.contains(ObjectIdentifier(parameter)) {
            let range = offset..<(offset + parameter.value.count)
            if let last = ranges.last, last.upperBound == range.lowerBound {
                ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
            } else {
                ranges.append(range)
            }
        }
        return ranges
    }
}
