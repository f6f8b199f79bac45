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

/// The kernels' arithmetic, run on the CPU: every kernel loops over its elements with a grid-stride loop
/// and shares no memory between threads, so compiled as plain C++ with a grid of one thread (the same
/// source, not a copy) each call does the whole launch in order. Compared with the CPU backend's results.
@Suite(.enabled(if: CUDATests.clang != nil, "no clang to compile the kernels for the host"))
struct CUDAKernelArithmeticTests {
    /// The kernels compiled for the host and loaded, once.
    nonisolated(unsafe) static let library: UnsafeMutableRawPointer? = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fashionlab-host-kernels-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("kernels.cpp"), library = directory.appendingPathComponent("kernels.so")
        let prelude = """
        #include <math.h>
        #define __global__
        struct Index { unsigned x; };
        static const Index blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
        static inline double atomicAdd(double* a, double v) { double old = *a; *a += v; return old; }
        static inline unsigned atomicAdd(unsigned* a, unsigned v) { unsigned old = *a; *a += v; return old; }

        """
        try? (prelude + CUDAKernelSource.source).write(to: source, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CUDATests.clang!)
        process.arguments = ["-x", "c++", "-O1", "-ffp-contract=off", "-shared", "-fPIC", "-o", library.path, source.path]
        try? process.run()
        process.waitUntilExit()
        return dlopen(library.path, RTLD_NOW)
    }()

    func kernel<T>(_ name: String, as type: T.Type) throws -> T {
        let symbol = try #require(Self.library.flatMap { dlsym($0, name) }, "kernel \(name) did not compile for the host")
        return unsafeBitCast(symbol, to: T.self)
    }

    func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) - 0.5) * 2 * scale
        }
    }

    @Test(arguments: [Float(0), 0.1])
    func softmaxCrossEntropyMatchesTheCPU(smoothing: Float) throws {
        typealias Kernel = @convention(c) (UnsafePointer<Float>, UnsafePointer<Int32>, UnsafeMutablePointer<Float>?,
                                           UnsafeMutablePointer<Double>, UnsafeMutablePointer<UInt32>, Int32, Int32, Float, Float) -> Void
        let softmax = try kernel("softmax_cross_entropy", as: Kernel.self)
        let rows = 37, classes = 10
        let logits = Tensor(shape: [rows, classes], values: randomValues(rows * classes, seed: 1, scale: 8))
        let labels = LabelBuffer((0..<rows).map { Int32($0 * 7 % classes) })
        let criterion = SoftmaxCrossEntropy(labelSmoothing: smoothing)
        let expected = criterion(logits, labels)
        var gradient = [Float](repeating: 0, count: rows * classes), lossSum = 0.0, correct: UInt32 = 0
        softmax(logits.data, labels.data, &gradient, &lossSum, &correct, Int32(rows), Int32(classes), 1 / Float(rows), smoothing)
        #expect(abs(lossSum - Double(expected.loss)) < 1e-5)  // training: the sum of loss/rows is the batch mean
        #expect(Int(correct) == expected.correct)
        #expect(gradient == criterion.gradient!.toArray())
    }

    @Test func adamUpdateMatchesTheCPU() throws {
        typealias Kernel = @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                           Int64, Float, Float, Float, Float, Float, Float, Float) -> Void
        let adamKernel = try kernel("adam_update", as: Kernel.self)
        for decoupled in [false, true] {
            let parameter = Parameter(name: "w", value: Tensor(shape: [300], values: randomValues(300, seed: 2)))
            var p = parameter.value.toArray(), m = [Float](repeating: 0, count: 300), v = m
            let adam = Adam(learningRate: 0.01, weightDecay: 0.1, decoupled: decoupled)
            for step in 1...3 {
                let g = randomValues(300, seed: UInt64(10 + step))
                parameter.zeroGradient()
                parameter.gradient.copy(from: g)
                adam.step([parameter])
                let stepSize = Float(0.01 / (1 - pow(0.9, Double(step))))
                let inverseCorrection2 = Float(1 / (1 - pow(0.999, Double(step))).squareRoot())
                adamKernel(&p, g, &m, &v, 300, 0.9, 0.999, 1e-8, stepSize, inverseCorrection2, decoupled ? 0 : 0.1, decoupled ? 1 - 0.01 * 0.1 : 1)
            }
            #expect(maxRelativeError(p, parameter.value.toArray()) < 1e-6, "decoupled \(decoupled)")
        }
    }

    @Test(arguments: [(Float(0), false), (0.9, false), (0.9, true)])
    func sgdUpdateMatchesTheCPU(momentum: Float, nesterov: Bool) throws {
        typealias Kernel = @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>?, Int64,
                                           Float, Float, Float, Float, Int32, Int32) -> Void
        let sgdKernel = try kernel("sgd_update", as: Kernel.self)
        let parameter = Parameter(name: "w", value: Tensor(shape: [200], values: randomValues(200, seed: 3)))
        var p = parameter.value.toArray(), b = [Float](repeating: 0, count: 200)
        let sgd = SGD(learningRate: 0.05, momentum: momentum, weightDecay: 0.01, nesterov: nesterov)
        for step in 0..<3 {
            let g = randomValues(200, seed: UInt64(20 + step))
            parameter.zeroGradient()
            parameter.gradient.copy(from: g)
            sgd.step([parameter])
            b.withUnsafeMutableBufferPointer { buffer in
                sgdKernel(&p, g, momentum != 0 ? buffer.baseAddress : nil, 200, 0.05, 0.01, momentum, 1, nesterov ? 1 : 0, step == 0 ? 1 : 0)
            }
        }
        #expect(maxRelativeError(p, parameter.value.toArray()) < 1e-6)
    }

    @Test func biasReLUAndTheirGradientsMatchTheCPU() throws {
        typealias Forward = @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int32, Int32, Int32) -> Void
        typealias ReLUBackward = @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Int64) -> Void
        typealias BiasBackward = @convention(c) (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int32, Int32, Float, Float) -> Void
        let biasForward = try kernel("bias_forward", as: Forward.self)
        let reluBackward = try kernel("relu_backward", as: ReLUBackward.self)
        let biasBackward = try kernel("bias_backward", as: BiasBackward.self)
        let rows = 5, cols = 7
        let x = randomValues(rows * cols, seed: 4), bias = randomValues(cols, seed: 5), dy = randomValues(rows * cols, seed: 6)
        var y = x
        biasForward(&y, bias, Int32(rows), Int32(cols), 1)
        let expectedY = (0..<rows * cols).map { max(0, x[$0] + bias[$0 % cols]) }
        #expect(y == expectedY)
        var dx = [Float](repeating: 0, count: rows * cols)
        reluBackward(&dx, dy, y, Int64(rows * cols))
        #expect(dx == (0..<rows * cols).map { y[$0] > 0 ? dy[$0] : 0 })
        var db = [Float](repeating: 3, count: cols)
        biasBackward(&db, dx, Int32(rows), Int32(cols), 1, 0)
        #expect(db == (0..<cols).map { c in (0..<rows).reduce(Float(0)) { $0 + dx[$1 * cols + c] } })
        // The fused plain-SGD form: bias += −lr · Σ dy.
        var fused = bias
        biasBackward(&fused, dx, Int32(rows), Int32(cols), -0.1, 1)
        #expect(maxRelativeError(fused, (0..<cols).map { bias[$0] - 0.1 * db[$0] }) < 1e-6)
    }

    @Test func gatherEncodesTheOrderedImages() throws {
        typealias Kernel = @convention(c) (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Int32>, UnsafePointer<UInt8>, UnsafePointer<UInt8>,
                                           UnsafePointer<Int32>, Int32, Int32, Int32, UnsafePointer<Float>) -> Void
        let gather = try kernel("gather_pixels", as: Kernel.self)
        let pixels = 6, count = 5
        let images = (0..<pixels * count).map { UInt8($0 * 9 % 256) }, labels: [UInt8] = [4, 1, 3, 0, 2]
        let order: [Int32] = [3, 0, 4, 2, 1]
        let table = (0..<256).map { Float($0) / 255 }
        var out = [Float](repeating: 0, count: 2 * pixels), outLabels = [Int32](repeating: -1, count: 2)
        gather(&out, &outLabels, images, labels, order, 2, 2, Int32(pixels), table)  // rows 2 and 3 of the order: images 4 and 2
        #expect(outLabels == [2, 3])
        #expect(out == (images[4 * pixels..<5 * pixels] + images[2 * pixels..<3 * pixels]).map { Float($0) / 255 })
    }
}

/// max |a − b| / max |b|.
func maxRelativeError(_ a: [Float], _ b: [Float]) -> Double {
    let scale = b.map { abs(Double($0)) }.max() ?? 1
    return zip(a, b).map { abs(Double($0) - Double($1)) }.max()! / max(scale, 1e-30)
}
