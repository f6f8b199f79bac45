import Foundation

/// The GPU code paths on the CPU, for tests on machines without a GPU: each `CUDAProgram` compiled for the
/// host by clang, each kernel called with a one-thread grid (every kernel loops over its elements with a
/// grid-stride loop and shares nothing between threads, so one call does the whole launch), device memory
/// in RAM, and cuBLAS's column-major GEMM done by the CPU BLAS.
///
/// What it cannot show: that NVRTC, the driver and cuBLAS accept these calls, and the GPU's own rounding.
final class HostEmulationRuntime: DeviceRuntime {
    private typealias Launcher = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Void
    private let clang: String
    /// Kernels by name; loads and launches may come from several threads (tests share the emulated device).
    private var launchers: [String: Launcher] = [:]
    private let lock = NSLock()

    init(clang: String) throws {
        self.clang = clang
    }

    func load(_ program: CUDAProgram) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fashionlab-host-kernels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("\(program.name).cpp"), library = directory.appendingPathComponent("\(program.name).so")
        try (Self.prelude + program.fullSource + Self.launchers(program)).write(to: source, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: clang)
        process.arguments = ["-x", "c++", "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-o", library.path, source.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let handle = dlopen(library.path, RTLD_NOW | RTLD_LOCAL) else {
            throw CUDAError(message: "clang could not build the host emulation of \(program.name): \(String(decoding: diagnostics, as: UTF8.self))")
        }
        for name in program.kernelNames {
            guard let symbol = dlsym(handle, "launch_" + name) else { throw CUDAError(message: "the host emulation has no kernel \(name)") }
            lock.withLock { launchers[name] = unsafeBitCast(symbol, to: Launcher.self) }
        }
    }

    /// What NVRTC provides by itself, for the host: a grid of one thread, math functions, plain atomics.
    private static let prelude = """
    #include <math.h>
    #define __global__
    #define __device__
    #define __shared__ static
    #define __syncthreads()
    struct Index { unsigned x; };
    static const Index blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
    static inline double atomicAdd(double* a, double v) { double old = *a; *a += v; return old; }
    static inline unsigned atomicAdd(unsigned* a, unsigned v) { unsigned old = *a; *a += v; return old; }

    """

    /// `launch_NAME(void** arguments)` for every kernel of `program`: unpacks the argument array the driver
    /// API takes into the kernel's parameters, read from the kernel's own signature.
    static func launchers(_ program: CUDAProgram) -> String {
        let source = program.source
        var code = "\n"
        for name in program.kernelNames {
            guard let start = source.range(of: "__global__ void \(name)("),
                  let end = source[start.upperBound...].firstIndex(of: ")") else { continue }
            let parameters = source[start.upperBound..<end].split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            let values = parameters.enumerated().map { index, parameter -> String in
                // The type is the parameter less its name: "const float* x" → "const float*".
                let type = parameter.replacingOccurrences(of: #"\s*\w+$"#, with: "", options: .regularExpression)
                return "*(\(type)*)arguments[\(index)]"
            }
            code += "extern \"C\" void launch_\(name)(void** arguments) { \(name)(\(values.joined(separator: ", "))); }\n"
        }
        return code
    }

    func allocate(_ bytes: Int) throws -> UInt64 {
        UInt64(UInt(bitPattern: UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)))
    }

    func deallocate(_ address: UInt64) { pointer(address).deallocate() }

    func copy(toDevice address: UInt64, from source: UnsafeRawPointer, bytes: Int) throws {
        pointer(address).copyMemory(from: source, byteCount: bytes)
    }

    func copy(toHost destination: UnsafeMutableRawPointer, from address: UInt64, bytes: Int) throws {
        destination.copyMemory(from: pointer(address), byteCount: bytes)
    }

    func zero(_ address: UInt64, bytes: Int) throws { memset(pointer(address), 0, bytes) }

    func synchronize() throws {}

    func makeCurrent() throws {}

    func launch(_ kernel: String, blocks: Int, threads: Int, arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws {
        guard let launcher = lock.withLock({ launchers[kernel] }) else {
            throw CUDAError(message: "no kernel named \(kernel) is loaded (load its CUDAProgram first)")
        }
        launcher(arguments)
    }

    /// Column-major C (m×n) is row-major Cᵀ (n×m) = op(B)ᵀ · op(A)ᵀ: the row-major BLAS with A and B swapped.
    func columnMajorGEMM(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         a: UInt64, lda: Int, b: UInt64, ldb: Int, beta: Float, c: UInt64, ldc: Int) throws {
        BLAS.shared.gemm(transposeA: transposeB, transposeB: transposeA, m: n, n: m, k: k, alpha: alpha,
                         a: floats(b), lda: ldb, b: floats(a), ldb: lda, beta: beta, c: floats(c), ldc: ldc)
    }

    private func pointer(_ address: UInt64) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: UInt(address))! }

    private func floats(_ address: UInt64) -> UnsafeMutablePointer<Float> { pointer(address).assumingMemoryBound(to: Float.self) }
}
