import Foundation

/// The GPU the CUDA backend computes on: device memory, kernel launches and GEMMs, in the order they
/// are asked for (one stream); only downloads and `synchronize` wait for the work. Calls are made from
/// one thread at a time (the trainer's).
///
/// `shared` is the real GPU: its context, its cuBLAS handle and the kernels of the `CUDAProgram`s that the
/// engine and the layers' GPU halves load, compiled by NVRTC for it the first time each is needed.
/// `hostEmulation` runs the same programs compiled for the CPU, with memory in RAM, so the GPU code paths
/// above the driver can be tested on a machine without a GPU.
public final class CUDADevice: @unchecked Sendable {
    /// The GPU's name, as the driver gives it (`NVIDIA H200`).
    public let name: String
    /// Compute capability, e.g. (9, 0).
    public let computeCapability: (major: Int, minor: Int)
    /// Total memory in bytes.
    public let memoryBytes: Int
    let runtime: DeviceRuntime
    /// The programs compiled so far, by name, and the kernels among them that run a block per channel.
    private var programs: [String: CUDAProgram] = [:]
    private var perChannelKernels: Set<String> = []
    private let programLock = NSLock()

    /// The first GPU (device 0), set up once per process; the error says what was missing or failed.
    public static let shared: Result<CUDADevice, CUDAError> = {
        switch CUDAProbe.result {
        case .failure(let unavailable): return .failure(CUDAError(message: unavailable.description))
        case .success(let found):
            return Result {
                let driver = try DriverRuntime(libraries: found.libraries)
                let device = CUDADevice(name: found.deviceName, computeCapability: driver.computeCapability, memoryBytes: driver.memoryBytes,
                                        runtime: driver)
                try device.load(.core)  // the engine's kernels, at once: a GPU NVRTC cannot compile for is reported here
                return device
            }.mapError { $0 as? CUDAError ?? CUDAError(message: "\($0)") }
        }
    }()

    /// A stand-in GPU on the CPU, for tests and development: the `CUDAProgram`s compiled by clang (with
    /// one-thread grids), memory in RAM, GEMMs column-major like cuBLAS's on the CPU BLAS. Set up once per
    /// process, with `CUDAProgram.core` loaded (as on a real GPU); fails when there is no clang (`clang`).
    public static let hostEmulation: Result<CUDADevice, CUDAError> = {
        guard let clang else { return .failure(CUDAError(message: "no clang found (on the PATH or beside the Swift toolchain)")) }
        return Result {
            let device = CUDADevice(name: "host emulation", computeCapability: (0, 0), memoryBytes: 0, runtime: try HostEmulationRuntime(clang: clang))
            try device.load(.core)
            return device
        }.mapError { $0 as? CUDAError ?? CUDAError(message: "\($0)") }
    }()

    /// The clang that builds the host emulation: the first on the PATH, else the Swift toolchain's.
    public static let clang: String? = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { String($0) + "/clang" }
        return (path + ["/usr/bin/clang", "/opt/swift/usr/bin/clang"]).first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    init(name: String, computeCapability: (major: Int, minor: Int), memoryBytes: Int, runtime: DeviceRuntime) {
        self.name = name
        self.computeCapability = computeCapability
        self.memoryBytes = memoryBytes
        self.runtime = runtime
    }

    // MARK: Memory

    /// Device memory for `count` values of `T`, zero-filled.
    public func allocate<T>(_ count: Int, of type: T.Type = Float.self) throws -> DeviceBuffer {
        let bytes = max(count, 1) * MemoryLayout<T>.stride
        let buffer = DeviceBuffer(address: try runtime.allocate(bytes), byteCount: bytes, device: self)
        try runtime.zero(buffer.address, bytes: bytes)
        return buffer
    }

    /// Copies `count` values from the host to `buffer` at element `offset`.
    public func upload<T>(_ source: UnsafePointer<T>, count: Int, to buffer: DeviceBuffer, offset: Int = 0) throws {
        let bytes = count * MemoryLayout<T>.stride, start = offset * MemoryLayout<T>.stride
        precondition(start + bytes <= buffer.byteCount, "upload of \(bytes) bytes past a buffer of \(buffer.byteCount)")
        try runtime.copy(toDevice: buffer.address + UInt64(start), from: source, bytes: bytes)
    }

    /// Copies `count` values of `buffer` from element `offset` to the host (waits for the work before it).
    public func download<T>(_ buffer: DeviceBuffer, offset: Int = 0, count: Int, into destination: UnsafeMutablePointer<T>) throws {
        let bytes = count * MemoryLayout<T>.stride, start = offset * MemoryLayout<T>.stride
        precondition(start + bytes <= buffer.byteCount, "download of \(bytes) bytes past a buffer of \(buffer.byteCount)")
        try download(from: buffer.address + UInt64(start), count: count, into: destination)
    }

    /// Copies `count` values at device address `address` to the host (waits for the work before it).
    public func download<T>(from address: UInt64, count: Int, into destination: UnsafeMutablePointer<T>) throws {
        try runtime.copy(toHost: destination, from: address, bytes: count * MemoryLayout<T>.stride)
    }

    /// Sets `buffer` to zero bytes.
    public func zero(_ buffer: DeviceBuffer) throws { try runtime.zero(buffer.address, bytes: buffer.byteCount) }

    /// Waits for all work asked for so far; reports an error of an earlier kernel.
    public func synchronize() throws { try runtime.synchronize() }

    /// Makes this GPU's context the calling thread's (the driver keeps one per thread).
    public func makeCurrent() throws { try runtime.makeCurrent() }

    // MARK: Kernels and GEMM

    /// Compiles `program` for this device unless it was already (each program once per device).
    public func load(_ program: CUDAProgram) throws {
        try programLock.withLock {
            guard programs[program.name] == nil else { return }
            try runtime.makeCurrent()  // a module loads into the calling thread's context
            try runtime.load(program)
            programs[program.name] = program
            perChannelKernels.formUnion(program.perChannelKernels)
        }
    }

    /// The programs compiled on this device so far.
    public var loadedPrograms: [CUDAProgram] { programLock.withLock { Array(programs.values) } }

    /// A kernel argument, passed by value.
    public enum Argument {
        case buffer(DeviceBuffer?), address(UInt64), int(Int), long(Int), float(Float)
    }

    /// Launches kernel `name` over `count` elements: 256-thread blocks enough to cover them (the kernels'
    /// loops stride over the grid, so it is capped), or, for a per-channel kernel, one block per channel.
    public func launch(_ name: String, covering count: Int, _ arguments: [Argument]) throws {
        let perChannel = programLock.withLock { perChannelKernels.contains(name) }
        let threads = perChannel ? CUDAProgram.blockThreads : 256
        let blocks = min(max(perChannel ? count : (count + threads - 1) / threads, 1), 65_535)
        // A launch takes an array of pointers to the argument values; every value fits 8 bytes.
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
            try runtime.launch(name, blocks: blocks, threads: threads, arguments: $0.baseAddress!)
        }
    }

    /// Row-major `C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C`, as `BLAS.gemm` on the CPU.
    /// cuBLAS is column-major, and a row-major matrix is its transpose in column-major, so this asks
    /// for `Cᵀ = op(B)ᵀ · op(A)ᵀ`.
    public func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UInt64, lda: Int, b: UInt64, ldb: Int, beta: Float, c: UInt64, ldc: Int) throws {
        try runtime.columnMajorGEMM(transposeA: transposeB, transposeB: transposeA, m: n, n: m, k: k, alpha: alpha,
                                    a: b, lda: ldb, b: a, ldb: lda, beta: beta, c: c, ldc: ldc)
    }
}

/// What a `CUDADevice` needs from below: the CUDA driver with cuBLAS and NVRTC, or the host emulation.
protocol DeviceRuntime: AnyObject {
    func allocate(_ bytes: Int) throws -> UInt64
    func deallocate(_ address: UInt64)
    func copy(toDevice address: UInt64, from source: UnsafeRawPointer, bytes: Int) throws
    func copy(toHost destination: UnsafeMutableRawPointer, from address: UInt64, bytes: Int) throws
    func zero(_ address: UInt64, bytes: Int) throws
    func synchronize() throws
    func makeCurrent() throws
    /// Compiles a program and makes its kernels launchable by name.
    func load(_ program: CUDAProgram) throws
    /// `arguments` points to one pointer per kernel parameter, each to its value.
    func launch(_ kernel: String, blocks: Int, threads: Int, arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws
    /// cuBLAS's `sgemm`: column-major `C = alpha · op(A) · op(B) + beta · C`.
    func columnMajorGEMM(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         a: UInt64, lda: Int, b: UInt64, ldb: Int, beta: Float, c: UInt64, ldc: Int) throws
}

/// Memory on the GPU, freed when the last reference goes.
public final class DeviceBuffer: @unchecked Sendable {
    /// The device address (`CUdeviceptr`).
    public let address: UInt64
    public let byteCount: Int
    /// The device it lives on.
    public let device: CUDADevice

    init(address: UInt64, byteCount: Int, device: CUDADevice) {
        self.address = address
        self.byteCount = byteCount
        self.device = device
    }

    /// The address of element `index` of `T`s.
    public func address<T>(at index: Int, of type: T.Type = Float.self) -> UInt64 {
        address + UInt64(index * MemoryLayout<T>.stride)
    }

    deinit { device.runtime.deallocate(address) }
}
