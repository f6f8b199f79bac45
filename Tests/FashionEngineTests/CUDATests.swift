import Foundation
import Testing
import FashionEngine
import FashionTestSupport

/// What the CUDA backend can show on a machine without a GPU: its kernels are valid CUDA C (clang, which
/// ships with Swift, parses them for sm_90), every kernel it looks up exists, and asking for CUDA where
/// there is none says what was missing. The numbers on a GPU are checked by `PyTorchReferenceTests` and
/// `CUDATrainingTests` when one is present.
struct CUDATests {
    static let clang = CUDADevice.clang

    /// Declarations NVRTC provides by itself and clang's CUDA mode without the CUDA headers does not.
    static let prelude = """
    #define __global__ __attribute__((global))
    #define __device__ __attribute__((device))
    #define __shared__ __attribute__((shared))
    #include <__clang_cuda_builtin_vars.h>
    __device__ void __syncthreads();
    __device__ float expf(float); __device__ float logf(float); __device__ float sqrtf(float);
    __device__ double atomicAdd(double*, double); __device__ unsigned int atomicAdd(unsigned int*, unsigned int);

    """

    /// clang's diagnostics for `source` compiled for sm_90 (empty when it compiles cleanly).
    static func diagnostics(_ source: String) throws -> String {
        let file = URL(fileURLWithPath: TestFiles.newPath("kernels", extension: "cu"))
        try (prelude + source).write(to: file, atomically: true, encoding: .utf8)
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

    /// The programs the built-in networks load (every layer with a GPU half), compiled on the host emulation.
    static let programs: [CUDAProgram] = {
        guard let device = try? CUDADevice.hostEmulation.get() else { return [] }
        for model in [Sequential.mlp(), Sequential.cnn(), Sequential.largeCNN()] { _ = try? CUDAModel(model, device: device) }
        return device.loadedPrograms.sorted { $0.name < $1.name }
    }()

    @Test(.enabled(if: clang != nil, "no clang to parse CUDA C"))
    func kernelsAreValidCUDA() throws {
        #expect(Self.programs.map(\.name).contains("core") && Self.programs.count >= 6, "\(Self.programs.map(\.name))")
        for program in Self.programs {
            let problems = try Self.diagnostics(program.fullSource)
            #expect(problems.isEmpty, "\(program.name): \(problems)")
        }
        // The check itself can fail: a kernel with an undeclared name does not pass.
        #expect(!(try Self.diagnostics(#"extern "C" __global__ void broken(float* x) { x[0] = undeclared; }"#)).isEmpty)
    }

    @Test(.enabled(if: clang != nil, "no clang to compile the kernels for the host"))
    func everyKernelHasOneNameAcrossPrograms() {
        let names = Self.programs.flatMap(\.kernelNames)
        #expect(Set(names).count == names.count, "kernel names repeat: \(names)")
        for program in Self.programs {
            #expect(program.kernelNames.count == program.source.components(separatedBy: "__global__ void ").count - 1, "\(program.name)")
            #expect(program.perChannelKernels.isSubset(of: Set(program.kernelNames)), "\(program.name)")
        }
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

/// The kernels' arithmetic, through `CUDADevice.hostEmulation` (the same kernel source compiled for the
/// CPU, launched with the same argument packing), against the CPU backend's results.
@Suite(.enabled(if: CUDATests.clang != nil, "no clang to compile the kernels for the host"))
struct CUDAKernelArithmeticTests {
    static let device: CUDADevice? = try? CUDADevice.hostEmulation.get()

    /// `values` on the device.
    func buffer<T>(_ values: [T]) throws -> DeviceBuffer {
        let device = try #require(Self.device)
        let buffer = try device.allocate(values.count, of: T.self)
        try values.withUnsafeBufferPointer { try device.upload($0.baseAddress!, count: $0.count, to: buffer) }
        return buffer
    }

    func read<T>(_ buffer: DeviceBuffer, count: Int, as type: T.Type = Float.self) throws -> [T] {
        try [T](unsafeUninitializedCapacity: count) { values, initialized in
            try Self.device!.download(buffer, count: count, into: values.baseAddress!)
            initialized = count
        }
    }

    /// Each GPU layer is sized by its own input: the Dropout after `cnn`'s Linear(3136, 256) and fused ReLU
    /// takes 256 values per image (it once took 3136, reading past the Linear's output).
    @Test func gpuLayersAreSizedByTheirInputs() throws {
        let model = try CUDAModel(Sequential.cnn(), device: try #require(Self.device))
        // conv, BN, ReLU, conv, BN, ReLU, pool; conv, BN, ReLU, conv, BN, ReLU, pool; flatten, dropout, linear, ReLU, dropout, linear
        let (first, second) = ([32, 28, 28], [64, 14, 14])
        #expect(model.inputShapes == [[1, 28, 28]] + [[Int]](repeating: first, count: 6) + [[32, 14, 14]] + [[Int]](repeating: second, count: 6)
                                     + [[64, 7, 7], [3136], [3136], [256], [256], [256]])
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
        let device = try #require(Self.device)
        let rows = 37, classes = 10
        let values = randomValues(rows * classes, seed: 1, scale: 8), targets = (0..<rows).map { Int32($0 * 7 % classes) }
        let criterion = SoftmaxCrossEntropy(labelSmoothing: smoothing)
        let expected = criterion(Tensor(shape: [rows, classes], values: values), LabelBuffer(targets))
        let logits = try buffer(values), labels = try buffer(targets), gradient = try device.allocate(rows * classes)
        let lossSum = try device.allocate(1, of: Double.self), correct = try device.allocate(1, of: UInt32.self)
        try device.softmaxCrossEntropy(logits: logits.address, labels: labels, rows: rows, classes: classes, gradient: gradient,
                                       lossSum: lossSum, correct: correct, scale: 1 / Float(rows), labelSmoothing: smoothing)
        #expect(abs(try read(lossSum, count: 1, as: Double.self)[0] - Double(expected.loss)) < 1e-5)  // the sum of loss/rows: the mean
        #expect(Int(try read(correct, count: 1, as: UInt32.self)[0]) == expected.correct)
        #expect(try read(gradient, count: rows * classes) == criterion.gradient!.toArray())
    }

    @Test func adamUpdateMatchesTheCPU() throws {
        let device = try #require(Self.device)
        for decoupled in [false, true] {
            let parameter = Parameter(name: "w", value: Tensor(shape: [300], values: randomValues(300, seed: 2)))
            let p = try buffer(parameter.value.toArray()), m = try device.allocate(300), v = try device.allocate(300)
            let adam = Adam(learningRate: 0.01, weightDecay: 0.1, decoupled: decoupled)
            for step in 1...3 {
                let gradient = randomValues(300, seed: UInt64(10 + step))
                parameter.zeroGradient()
                parameter.gradient.copy(from: gradient)
                adam.step([parameter])
                let stepSize = Float(0.01 / (1 - pow(0.9, Double(step))))
                let inverseCorrection2 = Float(1 / (1 - pow(0.999, Double(step))).squareRoot())
                try device.launch("adam_update", covering: 300, [
                    .buffer(p), .buffer(try buffer(gradient)), .buffer(m), .buffer(v), .long(300), .float(0.9), .float(0.999), .float(1e-8),
                    .float(stepSize), .float(inverseCorrection2), .float(decoupled ? 0 : 0.1), .float(decoupled ? 1 - 0.01 * 0.1 : 1),
                ])
            }
            #expect(maxRelativeError(try read(p, count: 300), parameter.value.toArray()) < 1e-6, "decoupled \(decoupled)")
        }
    }

    @Test(arguments: [(Float(0), false), (0.9, false), (0.9, true)])
    func sgdUpdateMatchesTheCPU(momentum: Float, nesterov: Bool) throws {
        let device = try #require(Self.device)
        let parameter = Parameter(name: "w", value: Tensor(shape: [200], values: randomValues(200, seed: 3)))
        let p = try buffer(parameter.value.toArray()), b = momentum != 0 ? try device.allocate(200) : nil
        let sgd = SGD(learningRate: 0.05, momentum: momentum, weightDecay: 0.01, nesterov: nesterov)
        for step in 0..<3 {
            let gradient = randomValues(200, seed: UInt64(20 + step))
            parameter.zeroGradient()
            parameter.gradient.copy(from: gradient)
            sgd.step([parameter])
            try device.launch("sgd_update", covering: 200, [
                .buffer(p), .buffer(try buffer(gradient)), .buffer(b), .long(200), .float(0.05), .float(0.01), .float(momentum), .float(1),
                .int(nesterov ? 1 : 0), .int(step == 0 ? 1 : 0),
            ])
        }
        #expect(maxRelativeError(try read(p, count: 200), parameter.value.toArray()) < 1e-6)
    }

    @Test func biasReLUAndTheirGradientsMatchTheCPU() throws {
        let device = try #require(Self.device)
        let rows = 5, cols = 7, n = rows * cols
        var x = randomValues(n, seed: 4)
        x[3] = .nan   // passes through both ways, as in PyTorch
        let bias = randomValues(cols, seed: 5), dy = randomValues(n, seed: 6)
        let yBuffer = try buffer(x), biasBuffer = try buffer(bias)
        try device.launch("bias_forward", covering: n, [.buffer(yBuffer), .buffer(biasBuffer), .int(rows), .int(cols), .int(1)])
        let y = try read(yBuffer, count: n)
        #expect(sameValues(y, (0..<n).map { x[$0] + bias[$0 % cols] <= 0 ? 0 : x[$0] + bias[$0 % cols] }))
        #expect(y[3].isNaN)
        let dxBuffer = try device.allocate(n)
        try device.launch("relu_backward", covering: n, [.buffer(dxBuffer), .buffer(try buffer(dy)), .buffer(yBuffer), .long(n)])
        let dx = try read(dxBuffer, count: n)
        #expect(dx == (0..<n).map { y[$0] <= 0 ? 0 : dy[$0] })
        #expect(dx[3] == dy[3])
        let dbBuffer = try buffer([Float](repeating: 3, count: cols))
        try device.launch("channel_sum", covering: cols, [.buffer(dbBuffer), .buffer(dxBuffer), .int(rows), .int(cols), .int(1), .float(1), .float(0)])
        let db = try read(dbBuffer, count: cols)
        #expect(maxRelativeError(db, (0..<cols).map { c in (0..<rows).reduce(Float(0)) { $0 + dx[$1 * cols + c] } }) < 1e-6)
        // The fused plain-SGD form: bias += −lr · Σ dy.
        try device.launch("channel_sum", covering: cols, [.buffer(biasBuffer), .buffer(dxBuffer), .int(rows), .int(cols), .int(1), .float(-0.1), .float(1)])
        #expect(maxRelativeError(try read(biasBuffer, count: cols), (0..<cols).map { bias[$0] - 0.1 * db[$0] }) < 1e-6)
    }

    @Test func gatherEncodesTheOrderedImages() throws {
        let device = try #require(Self.device)
        let pixels = 6, count = 5
        let images = (0..<pixels * count).map { UInt8($0 * 9 % 256) }, labels: [UInt8] = [4, 1, 3, 0, 2]
        let out = try device.allocate(2 * pixels), outLabels = try device.allocate(2, of: Int32.self)
        // Rows 2 and 3 of the order [3, 0, 4, 2, 1]: images 4 and 2.
        try device.launch("gather_pixels", covering: 2 * pixels, [
            .buffer(out), .buffer(outLabels), .buffer(try buffer(images)), .buffer(try buffer(labels)),
            .buffer(try buffer([Int32(3), 0, 4, 2, 1])), .int(2), .int(2), .int(pixels), .buffer(try buffer((0..<256).map { Float($0) / 255 })),
        ])
        #expect(try read(outLabels, count: 2, as: Int32.self) == [2, 3])
        #expect(try read(out, count: 2 * pixels) == (images[4 * pixels..<5 * pixels] + images[2 * pixels..<3 * pixels]).map { Float($0) / 255 })
    }

    /// cuBLAS's column-major GEMM as `CUDADevice.gemm` asks for it: every transpose, against the CPU BLAS.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func rowMajorGEMMMatchesTheCPU(transposeA: Bool, transposeB: Bool) throws {
        let device = try #require(Self.device)
        let m = 5, n = 7, k = 3
        let a = randomValues(m * k, seed: 7), b = randomValues(k * n, seed: 8), c = randomValues(m * n, seed: 9)
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        var expected = c
        BLAS.builtin.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                          beta: 2, c: &expected, ldc: n)
        let aBuffer = try buffer(a), bBuffer = try buffer(b), cBuffer = try buffer(c)  // held: an address alone keeps no buffer alive
        try device.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: aBuffer.address, lda: lda,
                        b: bBuffer.address, ldb: ldb, beta: 2, c: cBuffer.address, ldc: n)
        #expect(maxRelativeError(try read(cBuffer, count: m * n), expected) < 1e-6)
    }
}

/// max |a − b| / max |b|.
func maxRelativeError(_ a: [Float], _ b: [Float]) -> Double {
    let scale = b.map { abs(Double($0)) }.max() ?? 1
    return zip(a, b).map { abs(Double($0) - Double($1)) }.max()! / max(scale, 1e-30)
}

/// Where the CUDA libraries are looked for: pip's NVIDIA wheels in a virtual environment found by its `bin`
/// on the PATH as well as by `$VIRTUAL_ENV`.
@Suite struct CUDALibrarySearchTests {
    @Test func wheelsOfAVirtualEnvironmentOnThePathAreSearched() throws {
        let root = TestFiles.newPath("venv")
        for package in ["cublas", "cuda_nvrtc"] {
            try FileManager.default.createDirectory(atPath: root + "/lib/python3.12/site-packages/nvidia/\(package)/lib", withIntermediateDirectories: true)
        }
        let onPath = CUDAProbe.searchDirectories(environment: ["PATH": "/usr/bin:\(root)/bin"])
        #expect(onPath.contains(root + "/lib/python3.12/site-packages/nvidia/cublas/lib"))
        #expect(onPath.contains(root + "/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib"))
        let activated = CUDAProbe.searchDirectories(environment: ["VIRTUAL_ENV": root, "CUDA_HOME": "/opt/cuda"])
        #expect(activated.contains(root + "/lib/python3.12/site-packages/nvidia/cublas/lib"))
        #expect(activated.first == "/opt/cuda/lib64")
        #expect(!CUDAProbe.searchDirectories(environment: [:]).contains { $0.hasPrefix(root) })
    }
}
