import Foundation

/// A real GPU through the CUDA driver API: device 0's primary context, a cuBLAS handle, and the kernels of
/// each `CUDAProgram` compiled by NVRTC for this GPU when it is loaded (machine code when NVRTC knows the
/// architecture, PTX for the driver to compile otherwise). Everything runs on the default stream.
final class DriverRuntime: DeviceRuntime {
    let api: CUDALibraries
    let computeCapability: (major: Int, minor: Int)
    let memoryBytes: Int
    private let context: OpaquePointer?
    private let blas: OpaquePointer?
    /// Kernels by name, loaded and launched from any thread.
    private var kernels: [String: OpaquePointer] = [:]
    private let lock = NSLock()

    init(libraries: [String: String]) throws {
        let api = try CUDALibraries(paths: libraries)
        self.api = api
        func check(_ status: Int32, _ call: String) throws { try Self.check(api, status, call) }
        try check(api.cuInit(0), "cuInit")
        var device: Int32 = 0
        try check(api.cuDeviceGet(&device, 0), "cuDeviceGet")
        var major: Int32 = 0, minor: Int32 = 0, memory = 0
        try check(api.cuDeviceGetAttribute(&major, 75, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)")
        try check(api.cuDeviceGetAttribute(&minor, 76, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)")
        try check(api.cuDeviceTotalMem(&memory, device), "cuDeviceTotalMem")
        var context: OpaquePointer?
        try check(api.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        try check(api.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        var blas: OpaquePointer?
        let blasStatus = api.cublasCreate(&blas)
        guard blasStatus == 0 else { throw CUDAError(message: "cublasCreate failed with cuBLAS status \(blasStatus)") }
        self.context = context
        self.blas = blas
        computeCapability = (Int(major), Int(minor))
        memoryBytes = memory
    }

    func load(_ program: CUDAProgram) throws {
        let (major, minor) = computeCapability
        let image: [CChar]
        do {
            image = try compile(program, options: ["--gpu-architecture=sm_\(major)\(minor)"], binary: true)
        } catch {
            image = try compile(program, options: ["--gpu-architecture=compute_\(major)\(minor)"], binary: false)
        }
        var module: OpaquePointer?
        try image.withUnsafeBytes { try check(api.cuModuleLoadData(&module, $0.baseAddress!), "cuModuleLoadData(\(program.name))") }
        for name in program.kernelNames {
            var function: OpaquePointer?
            try check(api.cuModuleGetFunction(&function, module, name), "cuModuleGetFunction(\(name))")
            lock.withLock { kernels[name] = function }
        }
    }

    private func compile(_ source: CUDAProgram, options: [String], binary: Bool) throws -> [CChar] {
        var program: OpaquePointer?
        let created = api.nvrtcCreateProgram(&program, source.fullSource, "fashionlab_\(source.name).cu", 0, nil, nil)
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
            throw CUDAError(message: "NVRTC could not compile the kernels of \(source.name) (\(options.joined(separator: " "))): \(text)")
        }
        var size = 0
        let sized = binary ? api.nvrtcGetCUBINSize(program, &size) : api.nvrtcGetPTXSize(program, &size)
        guard sized == 0, size > 0 else { throw nvrtcError(sized, binary ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize") }
        var image = [CChar](repeating: 0, count: size)
        let got = binary ? api.nvrtcGetCUBIN(program, &image) : api.nvrtcGetPTX(program, &image)
        guard got == 0 else { throw nvrtcError(got, binary ? "nvrtcGetCUBIN" : "nvrtcGetPTX") }
        return image
    }

    func allocate(_ bytes: Int) throws -> UInt64 {
        var address: UInt64 = 0
        try check(api.cuMemAlloc(&address, bytes), "cuMemAlloc(\(bytes) bytes)")
        return address
    }

    func deallocate(_ address: UInt64) { _ = api.cuMemFree(address) }

    func copy(toDevice address: UInt64, from source: UnsafeRawPointer, bytes: Int) throws {
        try check(api.cuMemcpyHtoD(address, source, bytes), "cuMemcpyHtoD")
    }

    func copy(toHost destination: UnsafeMutableRawPointer, from address: UInt64, bytes: Int) throws {
        try check(api.cuMemcpyDtoH(destination, address, bytes), "cuMemcpyDtoH")
    }

    func zero(_ address: UInt64, bytes: Int) throws { try check(api.cuMemsetD8(address, 0, bytes), "cuMemsetD8") }

    func synchronize() throws { try check(api.cuCtxSynchronize(), "cuCtxSynchronize") }

    func makeCurrent() throws { try check(api.cuCtxSetCurrent(context), "cuCtxSetCurrent") }

    func launch(_ kernel: String, blocks: Int, threads: Int, arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws {
        guard let function = lock.withLock({ kernels[kernel] }) else {
            throw CUDAError(message: "no CUDA kernel named \(kernel) is loaded (load its CUDAProgram first)")
        }
        try check(api.cuLaunchKernel(function, UInt32(blocks), 1, 1, UInt32(threads), 1, 1, 0, nil, arguments, nil),
                  "cuLaunchKernel(\(kernel))")
    }

    func columnMajorGEMM(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         a: UInt64, lda: Int, b: UInt64, ldb: Int, beta: Float, c: UInt64, ldc: Int) throws {
        var alpha = alpha, beta = beta
        let status = api.cublasSgemm(blas, transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), &alpha,
                                     a, Int32(lda), b, Int32(ldb), &beta, c, Int32(ldc))
        guard status == 0 else { throw CUDAError(message: "cublasSgemm (\(m)×\(n)×\(k)) failed with cuBLAS status \(status)") }
    }

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
