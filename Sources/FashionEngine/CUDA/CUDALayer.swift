import FashionCore

/// A layer that runs on the GPU too: it makes its GPU half. Each layer declares this beside its own
/// definition (`Layers/NAME+CUDA.swift`: the GPU half, its kernels, this conformance), so a `CUDAModel`
/// needs no list of layer types; a layer without it trains on the CPU only.
protocol CUDARunnable: Layer {
    /// The GPU half of this layer for inputs of `inputShape` per image (batch excluded), its parameters in
    /// `context.parameters`. Loads the layer's `CUDAProgram` on the device.
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer
}

/// What a GPU half is made with: the device and where the model's parameters and gradients are on it.
struct CUDALayerContext {
    let device: CUDADevice
    let parameters: CUDAParameterStore
}

/// The GPU half of one layer: the twin of a CPU `Layer`, working on device addresses. `forward` keeps
/// what `backward` needs; `backward` writes its parameters' gradients (overwriting: every parameter is
/// used once per step) and returns the input gradient's address when asked for it. With `sgdRate`
/// (`CUDAModel.backward`), a layer that `UpdatesInBackward` applies plain SGD to its parameters itself.
protocol CUDALayer: AnyObject {
    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64
    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64?
    /// Copies non-trained state (BatchNorm's running statistics) between the host layer and the GPU.
    func uploadState() throws
    func downloadState() throws
}

extension CUDALayer {
    func uploadState() throws {}
    func downloadState() throws {}
}

/// Where a model's parameters and gradients are on the GPU (one buffer each, in `state_dict` order).
struct CUDAParameterStore {
    let values: DeviceBuffer
    let gradients: DeviceBuffer
    let offsets: [ObjectIdentifier: Int]

    func value(_ parameter: Parameter) -> UInt64 { values.address(at: offsets[ObjectIdentifier(parameter)]!) }
    func gradient(_ parameter: Parameter) -> UInt64 { gradients.address(at: offsets[ObjectIdentifier(parameter)]!) }
}

/// Device buffers a layer keeps for the largest batch seen so far, grown when a larger one comes.
final class CUDAWorkspace {
    let device: CUDADevice
    private var buffers: [String: DeviceBuffer] = [:]

    init(device: CUDADevice) { self.device = device }

    /// The buffer named `name`, holding at least `count` values of `T`.
    func buffer<T>(_ name: String, _ count: Int, of type: T.Type = Float.self) throws -> DeviceBuffer {
        if let existing = buffers[name], existing.byteCount >= count * MemoryLayout<T>.stride { return existing }
        let buffer = try device.allocate(count, of: T.self)
        buffers[name] = buffer
        return buffer
    }
}

