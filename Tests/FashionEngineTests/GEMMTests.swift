import Testing
import FashionCore
import FashionEngine

@Suite struct GEMMTests {
    /// C = alpha·op(A)·op(B) + beta·C computed in Double, the slow obvious way.
    func reference(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: [Float], _ b: [Float], _ beta: Float, _ c: [Float]) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = tA ? a[p * m + i] : a[i * k + p]
                    let bv = tB ? b[j * k + p] : b[p * n + j]
                    sum += Double(av) * Double(bv)
                }
                out[i * n + j] = Float(Double(alpha) * sum + Double(beta) * Double(c[i * n + j]))
            }
        }
        return out
    }

    func random(_ count: Int, _ generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 }
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func builtinAndBLASAgreeWithTheDefinition(transposes: (Bool, Bool)) {
        let (tA, tB) = transposes
        var generator = SeededGenerator(seed: 5)
        // Sizes with tails in every dimension of the AVX-512 kernels' tiles (6×64, 8×3, 16 lanes), and one whose
        // 256-deep block of B is too large for the broadcast form to walk C row by row.
        for (m, n, k) in [(1, 1, 1), (7, 13, 5), (32, 100, 78), (64, 10, 200), (70, 130, 37), (13, 65, 16), (100, 7, 33), (9, 300, 260)] {
            let a = random(m * k, &generator), b = random(k * n, &generator), c = random(m * n, &generator)
            let expected = reference(tA, tB, m, n, k, 0.7, a, b, 0.3, c)
            for blas in [BLAS.builtin, BLAS.shared.withOwnKernels(false), BLAS.shared.withOwnKernels(true)] {
                var out = c
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        out.withUnsafeMutableBufferPointer { cp in
                            blas.gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, alpha: 0.7,
                                      a: ap.baseAddress!, lda: tA ? m : k, b: bp.baseAddress!, ldb: tB ? k : n,
                                      beta: 0.3, c: cp.baseAddress!, ldc: n)
                        }
                    }
                }
                let worst = zip(out, expected).map { abs($0 - $1) }.max()!
                #expect(worst < 1e-4, "\(blas.summary) \(m)×\(n)×\(k): max error \(worst)")
            }
        }
    }

    /// A linear layer's forward pass, x·Wᵀ + b then ReLU, in one call: every GEMM against the definition, and the
    /// own kernels' fused bias and ReLU bit for bit what a separate pass over C gives.
    @Test func biasAndReLUFollowTheProduct() {
        var generator = SeededGenerator(seed: 9)
        // (32, 200, 784) is a training step's shape: its columns are split over the threads, bias and all.
        for (m, n, k) in [(1, 1, 1), (7, 13, 5), (32, 100, 78), (70, 130, 37), (300, 40, 20), (32, 200, 784)] {
            let a = random(m * k, &generator), b = random(n * k, &generator), bias = random(n, &generator)
            for relu in [false, true] {
                let product = reference(false, true, m, n, k, 1, a, b, 0, [Float](repeating: 0, count: m * n))
                let expected = (0..<m * n).map { index -> Float in
                    let value = product[index] + bias[index % n]
                    return relu && value <= 0 ? 0 : value
                }
                func run(_ blas: BLAS, withBias: Bool, relu: Bool) -> [Float] {
                    var out = [Float](repeating: .nan, count: m * n)
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            bias.withUnsafeBufferPointer { biasPointer in
                                out.withUnsafeMutableBufferPointer { cp in
                                    blas.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: k,
                                              b: bp.baseAddress!, ldb: k, beta: 0, c: cp.baseAddress!, ldc: n,
                                              bias: withBias ? biasPointer.baseAddress : nil, relu: relu)
                                }
                            }
                        }
                    }
                    return out
                }
                for blas in [BLAS.builtin, BLAS.shared.withOwnKernels(false), BLAS.shared.withOwnKernels(true)] {
                    let out = run(blas, withBias: true, relu: relu)
                    let worst = zip(out, expected).map { abs($0 - $1) }.max()!
                    #expect(worst < 1e-4, "\(blas.summary) \(m)×\(n)×\(k) relu \(relu): max error \(worst)")
                    let unbiased = run(blas, withBias: false, relu: relu)
                    let worstUnbiased = zip(unbiased, product).map { abs($0 - (relu && $1 <= 0 ? 0 : $1)) }.max()!
                    #expect(worstUnbiased < 1e-4, "\(blas.summary) \(m)×\(n)×\(k) relu \(relu), no bias: max error \(worstUnbiased)")
                }
                let own = BLAS.shared.withOwnKernels(true)
                let separate = run(own, withBias: false, relu: false).enumerated().map { index, value -> Float in
                    let biased = value + bias[index % n]
                    return relu && biased <= 0 ? 0 : biased
                }
                #expect(run(own, withBias: true, relu: relu).map(\.bitPattern) == separate.map(\.bitPattern), "\(m)×\(n)×\(k) relu \(relu)")
            }
        }
    }

    @Test func environmentCanForceTheBuiltinGEMM() {
        #expect(BLAS.load(from: "builtin").library == "builtin")
        #expect(BLAS.load(from: "/no/such/libblas.so").library == "builtin")
    }
}
