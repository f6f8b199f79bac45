import CKernels
import FashionCore
import Foundation

/// The GEMM in use: a CBLAS `cblas_sgemm` found at run time, or the project's portable Swift GEMM;
/// on x86-64 CPUs with AVX-512, the project's own kernels for the forms training uses (A·B, Aᵀ·B, A·Bᵀ),
/// unless `$FASHIONLAB_GEMM=blas`.
///
/// Looked up once per process: `$FASHIONLAB_BLAS` (a library path, or `builtin` for the Swift GEMM),
/// else Accelerate on macOS, else OpenBLAS (`libopenblas.so.0`), else the builtin GEMM.
/// No BLAS headers or libraries are needed to build.
public struct BLAS: Sendable {
    public typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    /// A short description: the library file (or "builtin") and, for OpenBLAS, its kernel and threads.
    public let description: String
    /// The library path, or "builtin".
    public let library: String
    let sgemm: SGEMM?
    /// True when the project's AVX-512 kernels serve A·B, Aᵀ·B and A·Bᵀ (the BLAS the rest).
    public private(set) var usesOwnKernels = false
    private let setThreads: (@convention(c) (Int32) -> Void)?
    private let coreName: (@convention(c) () -> UnsafePointer<CChar>?)?

    /// The BLAS this process uses.
    public static let shared = BLAS.load(from: ProcessInfo.processInfo.environment["FASHIONLAB_BLAS"])
        .withOwnKernels(ProcessInfo.processInfo.environment["FASHIONLAB_GEMM"] != "blas")

    /// This GEMM with the project's AVX-512 kernels switched on (where the CPU has them) or off.
    public func withOwnKernels(_ on: Bool) -> BLAS {
        var copy = self
        copy.usesOwnKernels = on && fl_gemm_available() != 0
        return copy
    }

    /// What the GEMM is, for reports: the BLAS, and the project's kernels when they are in use.
    public var summary: String {
        usesOwnKernels ? "FashionLab AVX-512 GEMM kernels; \(description) for the rest" : description
    }

    /// The portable Swift GEMM.
    public static let builtin = BLAS(description: "builtin (portable Swift GEMM)", library: "builtin", sgemm: nil, setThreads: nil, coreName: nil)

    /// Loads a CBLAS from `request` (a path, or "builtin"), or from the default places when nil.
    /// A requested library that cannot be loaded is reported on stderr and the builtin GEMM is used.
    public static func load(from request: String?) -> BLAS {
        if request == "builtin" { return .builtin }
        let candidates: [String]
        if let request, !request.isEmpty {
            candidates = [request]
        } else {
            #if os(macOS)
            candidates = ["/System/Library/Frameworks/Accelerate.framework/Accelerate"]
            #else
            candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.so", "libcblas.so.3", "libblas.so.3"]
            #endif
        }
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "cblas_sgemm") else { continue }
            let setThreads = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: (@convention(c) (Int32) -> Void).self) }
            let coreName = dlsym(handle, "openblas_get_corename").map { unsafeBitCast($0, to: (@convention(c) () -> UnsafePointer<CChar>?).self) }
            var blas = BLAS(description: path, library: path, sgemm: unsafeBitCast(symbol, to: SGEMM.self),
                            setThreads: setThreads, coreName: coreName)
            if let name = blas.kernel { blas = BLAS(description: "\(path) (OpenBLAS, \(name) kernels)", library: path, sgemm: blas.sgemm, setThreads: setThreads, coreName: coreName) }
            return blas
        }
        if let request, !request.isEmpty {
            FileHandle.standardError.write(Data("warning: $FASHIONLAB_BLAS=\(request): cannot load cblas_sgemm from it; using the builtin GEMM\n".utf8))
        }
        return .builtin
    }

    /// The OpenBLAS kernel family in use ("Haswell", "SkylakeX", …), when OpenBLAS says.
    public var kernel: String? { coreName?().map { String(cString: $0) } }

    /// Sets how many threads the BLAS uses (OpenBLAS only; others ignore it).
    public func setThreadCount(_ count: Int) { setThreads?(Int32(count)) }

    /// C = alpha · op(A) · op(B) + beta · C, row-major; op transposes when asked.
    /// A is m×k after op, B is k×n after op, C is m×n. Then, when given, `bias` (n values) is added to every
    /// row of C, and with `relu` each element becomes max(0, ·) (NaN stays NaN): a linear layer's forward pass.
    /// The own kernels apply both to each block of C they have just finished (the dot form) or to each thread's
    /// rows right after its GEMM (the broadcast form); other GEMMs, in one pass afterwards.
    @inline(__always)
    public func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                     bias: UnsafePointer<Float>? = nil, relu: Bool = false) {
        if usesOwnKernels, !(transposeA && transposeB) {
            ownGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                    a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias, relu: relu)
            return
        }
        if let sgemm {
            // 101 = CblasRowMajor, 111 = CblasNoTrans, 112 = CblasTrans
            sgemm(101, transposeA ? 112 : 111, transposeB ? 112 : 111, Int32(m), Int32(n), Int32(k),
                  alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        } else {
            BuiltinGEMM.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                             a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        if bias != nil || relu {
            // Split over the cores only for evaluation's large batches; a training batch is one chunk.
            parallelFor(m, minimumChunk: max(1, 32_768 / max(1, n))) { rows in
                fl_add_row_vector(c + rows.lowerBound * ldc, bias, rows.count, n, ldc, relu ? 1 : 0)
            }
        }
    }

    /// The project's kernels, with the rows of C split over the threads.
    private func ownGEMM(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, relu: Bool) {
        // A training step's forward pass, x·Wᵀ with fewer rows (images) than columns (features): each thread takes
        // a slice of the features, so it reads only its own rows of W, the rows its weight-gradient GEMM and the
        // optimiser (both split by rows of W the same way) write. Split by images instead, every thread would read
        // all of W every step, and the half another core just updated crosses between cores (1.6 MB a step for
        // the notebook's MLP: what made the 2-thread step run at half speed when the VM's cores sat far apart).
        // Each element of C is computed whole by one thread either way, so the results do not change.
        if transposeB, m < n {
            parallelFor(n, minimumChunk: max(16, 2_000_000 / max(1, 2 * m * k))) { columns in
                fl_gemm_dot(m, columns.count, k, alpha, a, lda, b + columns.lowerBound * ldb, ldb, beta, c + columns.lowerBound, ldc,
                            bias.map { $0 + columns.lowerBound }, relu ? 1 : 0)
            }
            return
        }
        // About 2 MFLOP per thread at least: below that, handing work to a thread costs more than it saves.
        let rowsPerChunk = max(6, 2_000_000 / max(1, 2 * n * k))
        parallelFor(m, minimumChunk: rowsPerChunk) { rows in
            let count = rows.count
            let cRows = c + rows.lowerBound * ldc
            if transposeB {
                fl_gemm_dot(count, n, k, alpha, a + rows.lowerBound * lda, lda, b, ldb, beta, cRows, ldc, bias, relu ? 1 : 0)
                return
            }
            if transposeA {
                fl_gemm_broadcast(count, n, k, alpha, a + rows.lowerBound, 1, lda, b, ldb, beta, cRows, ldc)
            } else {
                fl_gemm_broadcast(count, n, k, alpha, a + rows.lowerBound * lda, lda, 1, b, ldb, beta, cRows, ldc)
            }
            if bias != nil || relu { fl_add_row_vector(cRows, bias, count, n, ldc, relu ? 1 : 0) }
        }
    }
}
