import Foundation

/// The GPU the CUDA backend computes on: its context, its cuBLAS handle and the kernels of
/// `CUDAKernelSource`, compiled by NVRTC for this GPU when the process first asks for it.
///
/// Work goes to the default stream in the order it is asked for; only `download` and
/// `synchronize` wait for it. Calls are made from one thread at a time (the trainer's).
public final class CUDADevice: @unchecked Sendable {
    /// The GPU's name, as the driver gives it (`NVIDIA H200`).
    public let name: String
    /// Compute capability, e.g. (9, 0).
    public let computeCapability: (major: Int, minor: Int)
    /// Total memory in bytes.
    public let memoryBytes: Int
    let api: CUDALibraries
    private let context: OpaquePointer?
    private let blas: OpaquePointer?
    private var kernels: [String: OpaquePointer] = [:]

    /// The first GPU (device 0), set up once per process; the error says what was missing or failed.
    public static let shared: Result<CUDADevice, CUDAError> = {
        switch CUDAProbe.result {
        case .failure(let unavailable): return .failure(CUDAError(message: unavailable.description))
        case .success(let found): return Result { try CUDADevice(found: found) }.mapError { $0 as? CUDAError ?? CUDAError(message: "\($0)") }
        }
    }()

    private init(found: CUDAProbe.Found) throws {
        api = try CUDALibraries(paths: found.libraries)
        try Self.check(api, api.cuInit(0), "cuInit")
        var device: Int32 = 0
        try Self.check(api, api.cuDeviceGet(&device, 0), "cuDeviceGet")
        var major: Int32 = 0, minor: Int32 = 0, memory = 0
        try Self.check(api, api.cuDeviceGetAttribute(&major, 75, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)")
        try Self.check(api, api.cuDeviceGetAttribute(&minor, 76, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)")
        try Self.check(api, api.cuDeviceTotalMem(&memory, device), "cuDeviceTotalMem")
        var context: OpaquePointer?
        try Self.check(api, api.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        try Self.check(api, api.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        var blas: OpaquePointer?
        let blasStatus = api.cublasCreate(&blas)
        guard blasStatus == 0 else { throw CUDAError(message: "cublasCreate failed with cuBLAS status \(blasStatus)") }
        self.context = context
        self.blas = blas
        self.name = found.deviceName
        self.computeCapability = (Int(major), Int(minor))
        self.memoryBytes = memory
        try loadKernels()
    }

    /// Compiles `CUDAKernelSource` for this GPU (machine code when NVRTC knows the architecture,
    /// PTX for the driver to compile otherwise) and looks up every kernel.
    private func loadKernels() throws {
        let (major, minor) = computeCapability
        let image: [CChar]
        do {
            image = try compile(options: ["--gpu-architecture=sm_\(major)\(minor)"], binary: true)
        } catch {
            image = try compile(options: ["--gpu-architecture=compute_\(major)\(minor)"], binary: false)
        }
        var module: OpaquePointer?
        try image.withUnsafeBytes { try check(api.cuModuleLoadData(&module, $0.baseAddress!), "cuModuleLoadData") }
        for name in CUDAKernelSource.kernelNames {
            var function: OpaquePointer?
            try check(api.cuModuleGetFunction(&function, module, name), "cuModuleGetFunction(\(name))")
            kernels[name] = function
        }
    }

    private func compile(options: [String], binary: Bool) throws -> [CChar] {
        var program: OpaquePointer?
        let created = api.nvrtcCreateProgram(&program, CUDAKernelSource.source, "fashionlab_kernels.cu", 0, nil, nil)
        guard created == 0 else { throw nvrtcError(created, "nvrtcCreateProgram") }
        defer { _ = api.nvrtcDestroyProgram(&program) }
        let cOptions = options.map { strdup($0) }
        defer { cOptions.forEach { free($0) } }
        let compiled = cOptions.map { UnsafePointer($0) }.withUnsafeBufferPointer {
            api.nvrtcCompileProgram(program, Int32(options.count), $0.baseAddress)
        }
        guard compiled == 0 else {
            var logSize = 0
            _ = api.nvrtcGetProgramLogSize(program, &logSize)
            var log = [CChar](repeating: 0, count: max(logSize, 1))
            _ = api.nvrtcGetProgramLog(program, &log)
            let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CUDAError(message: "NVRTC could not compile the kernels (\(options.joined(separator: " "))): \(text)")
        }
        var size = 0
        let sized = binary ? api.nvrtcGetCUBINSize(program, &size) : api.nvrtcGetPTXSize(program, &size)
        guard sized == 0, size > 0 else { throw nvrtcError(sized, binary ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize") }
        var image = [CChar](repeating: 0, count: size)
        let got = binary ? api.nvrtcGetCUBIN(program, &image) : api.nvrtcGetPTX(program, &image)
        guard got == 0 else { throw nvrtcError(got, binary ? "nvrtcGetCUBIN" : "nvrtcGetPTX") }
        return image
    }

    // MARK: Memory

    /// Device memory for `count` values of `T`, zero-filled.
    public func allocate<T>(_ count: Int, of type: T.Type = Float.self) throws -> DeviceBuffer {
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        var address: UInt64 = 0
        try check(api.cuMemAlloc(&address, bytes), "cuMemAlloc(\(bytes) bytes)")
        let buffer = DeviceBuffer(address: address, byteCount: bytes, device: self)
        try check(api.cuMemsetD8(address, 0, bytes), "cuMemsetD8")
        return buffer
    }

    /// Copies `count` values from the host to `buffer` at element `offset`.
    public func upload<T>(_ source: UnsafePointer<T>, count: Int, to buffer: DeviceBuffer, offset: Int = 0) throws {
        let bytes = count * MemoryLayout<T>.stride, start = offset * MemoryLayout<T>.stride
        precondition(start + bytes <= buffer.byteCount, "upload of \(bytes) bytes past a buffer of \(buffer.byteCount)")
        try check(api.cuMemcpyHtoD(buffer.address + UInt64(start), source, bytes), "cuMemcpyHtoD")
    }

    /// Copies `count` values of `buffer` from element `offset` to the host (waits for the work before it).
    public func download<T>(_ buffer: DeviceBuffer, offset: Int = 0, count: Int, into destination: UnsafeMutablePointer<T>) throws {
        let bytes = count * MemoryLayout<T>.stride, start = offset * MemoryLayout<T>.stride
        precondition(start + bytes <= buffer.byteCount, "download of \(bytes) bytes past a buffer of \(buffer.byteCount)")
        try download(from: buffer.address + UInt64(start), count: count, into: destination)
    }

    /// Copies `count` values at device address `address` to the host (waits for the work before it).
    public func download<T>(from address: UInt64, count: Int, into destination: UnsafeMutablePointer<T>) throws {
        try check(api.cuMemcpyDtoH(destination, address, count * MemoryLayout<T>.stride), "cuMemcpyDtoH")
    }

    /// Sets `buffer` to zero bytes.
    public func zero(_ buffer: DeviceBuffer) throws {
        try check(api.cuMemsetD8(buffer.address, 0, buffer.byteCount), "cuMemsetD8")
    }

    /// Waits for all work asked for so far; reports an error of an earlier kernel.
    public func synchronize() throws { try check(api.cuCtxSynchronize(), "cuCtxSynchronize") }

    /// Makes this GPU's context the calling thread's (the driver keeps one per thread).
    public func makeCurrent() throws { try check(api.cuCtxSetCurrent(context), "cuCtxSetCurrent") }

    // MARK: Kernels and GEMM

    /// A kernel argument, passed by value.
    public enum Argument {
        case buffer(DeviceBuffer?), address(UInt64), int(Int), long(Int), float(Float)
    }

    /// Launches kernel `name` with enough 256-thread blocks to cover `count` elements (its loops
    /// stride over the grid, so it is capped).
    public func launch(_ name: String, covering count: Int, _ arguments: [Argument]) throws {
        guard let kernel = kernels[name] else { preconditionFailure("no CUDA kernel named \(name)") }
        let threads = 256
        let blocks = UInt32(min(max((count + threads - 1) / threads, 1), 65_536))
        // cuLaunchKernel takes an array of pointers to the argument values; every value fits 8 bytes.
        let storage = UnsafeMutableRawPointer.allocate(byteCount: 8 * max(arguments.count, 1), alignment: 8)
        defer { storage.deallocate() }
        var pointers: [UnsafeMutableRawPointer?] = []
        for (index, argument) in arguments.enumerated() {
            let slot = storage + 8 * index
            switch argument {
            case .buffer(let buffer): slot.storeBytes(of: buffer?.address ?? 0, as: UInt64.self)
            case .address(let address): slot.storeBytes(of: address, as: UInt64.self)
            case .int(let value): slot.storeBytes(of: Int32(value), as: Int32.self)
            case .long(let value): slot.storeBytes(of: Int64(value), as: Int64.self)
            case .float(let value): slot.storeBytes(of: value, as: Float.self)
            }
            pointers.append(slot)
        }
        try pointers.withUnsafeMutableBufferPointer {
            try check(api.cuLaunchKernel(kernel, blocks, 1, 1, UInt32(threads), 1, 1, 0, nil, $0.baseAddress, nil), "cuLaunchKernel(\(name))")
        }
    }

    /// Row-major `C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C`, as `BLAS.gemm` on the CPU.
    /// cuBLAS is column-major, and a row-major matrix is its transpose in column-major, so this asks
    /// cuBLAS for `Cᵀ = op(B)ᵀ · op(A)ᵀ`.
    public func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UInt64, lda: Int, b: UInt64, ldb: Int, beta: Float, c: UInt64, ldc: Int) throws {
        var alpha = alpha, beta = beta
        let status = api.cublasSgemm(blas, transposeB ? 1 : 0, transposeA ? 1 : 0, Int32(n), Int32(m), Int32(k), &alpha,
                                     b, Int32(ldb), a, Int32(lda), &beta, c, Int32(ldc))
        guard status == 0 else { throw CUDAError(message: "cublasSgemm (\(m)×\(n)×\(k)) failed with cuBLAS status \(status)") }
    }

    // MARK: Errors

    private func check(_ status: Int32, _ call: String) throws { try Self.check(api, status, call) }

    private static func check(_ api: CUDALibraries, _ status: Int32, _ call: String) throws {
        guard status != 0 else { return }
        var text: UnsafePointer<CChar>?
        _ = api.cuGetErrorString(status, &text)
        throw CUDAError(message: "\(call) failed: CUDA error \(status) (\(text.map { String(cString: $0) } ?? "unknown"))")
    }

    private func nvrtcError(_ status: Int32, _ call: String) -> CUDAError {
        CUDAError(message: "\(call) failed: \(api.nvrtcGetErrorString(status).map { String(cString: $0) } ?? "NVRTC error \(status)")")
    }
}

/// Memory on the GPU, freed when the last reference goes.
public final class DeviceBuffer: @unchecked Sendable {
    /// The device address (`CUdeviceptr`).
    public let address: UInt64
    public let byteCount: Int
    private let device: CUDADevice

    init(address: UInt64, byteCount: Int, device: CUDADevice) {
        self.address = address
        self.byteCount = byteCount
        self.device = device
    }

    /// The address of element `index` of `T`s.
    public func address<T>(at index: Int, of type: T.Type = Float.self) -> UInt64 {
        address + UInt64(index * MemoryLayout<T>.stride)
    }

    deinit { _ = device.api.cuMemFree(address) }
}
