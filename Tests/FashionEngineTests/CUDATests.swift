import Foundation
import Testing
import FashionEngine

/// What the CUDA backend can show on a machine without a GPU: its kernels are valid CUDA C (clang, which
/// ships with Swift, parses them for sm_90), every kernel it looks up exists, and asking for CUDA where
/// there is none says what was missing. The numbers on a GPU are checked by `PyTorchReferenceTests` and
/// `CUDATrainingTests` when one is present.
struct CUDATests {
    static let clang: String? = ["/usr/bin/clang", "/opt/swift/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/clang" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Declarations NVRTC provides by itself and clang's CUDA mode without the CUDA headers does not.
    static let prelude = """
    #define __global__ __attribute__((global))
    #define __device__ __attribute__((device))
    #include <__clang_cuda_builtin_vars.h>
    __device__ float expf(float); __device__ float logf(float); __device__ float sqrtf(float);
    __device__ double atomicAdd(double*, double); __device__ unsigned int atomicAdd(unsigned int*, unsigned int);

    """

    /// clang's diagnostics for `source` compiled for sm_90 (empty when it compiles cleanly).
    static func diagnostics(_ source: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fashionlab-kernels-\(UUID().uuidString).cu")
        try (prelude + source).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: clang!)
        process.arguments = ["-x", "cuda", "--cuda-device-only", "--cuda-gpu-arch=sm_90", "-nocudainc", "-nocudalib",
                             "-fsyntax-only", "-Wall", "-Werror", file.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? "" : String(decoding: output, as: UTF8.self)
    }

    @Test(.enabled(if: clang != nil, "no clang to parse CUDA C"))
    func kernelsAreValidCUDA() throws {
        let problems = try Self.diagnostics(CUDAKernelSource.source)
        #expect(problems.isEmpty, "\(problems)")
        // The check itself can fail: a kernel with an undeclared name does not pass.
        #expect(!(try Self.diagnostics(#"extern "C" __global__ void broken(float* x) { x[0] = undeclared; }"#)).isEmpty)
    }

    @Test func everyLookedUpKernelIsDefined() {
        for name in CUDAKernelSource.kernelNames {
            #expect(CUDAKernelSource.source.contains("extern \"C\" __global__ void \(name)("), "\(name)")
        }
        let defined = CUDAKernelSource.source.components(separatedBy: "__global__ void ").count - 1
        #expect(defined == CUDAKernelSource.kernelNames.count)
    }

    @Test(.enabled(if: (try? CUDADevice.shared.get()) == nil, "this machine has a usable GPU"))
    func cudaWhereThereIsNoneSaysWhatIsMissing() {
        #expect(throws: DeviceError.self) { try DeviceChoice.cuda.resolve() }
        do {
            _ = try DeviceChoice.cuda.resolve()
        } catch {
            let message = "\(error)"
            #expect(message.hasPrefix("--device cuda: CUDA is not available: "))
            #expect(message.contains("looked in") || message.contains("cuInit") || message.contains("not found"))
        }
        let (backend, note) = try! DeviceChoice.auto.resolve()
        #expect(backend.name == "CPU")
        #expect(note.hasPrefix("CPU (auto: CUDA is not available"))
    }
}
