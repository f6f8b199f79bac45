import FashionCore

/// A portable GEMM in plain Swift for machines without a BLAS: correct for every transpose
/// combination, blocked so the inner loop streams contiguous rows the compiler vectorises,
/// and spread over all cores by rows of C.
enum BuiltinGEMM {
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Bring B into k×n row-major so the inner loop runs along contiguous memory.
        let bRows: UnsafePointer<Float>
        var packedB: UnsafeMutablePointer<Float>?
        if transposeB {
            let packed = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
            for j in 0..<n { for p in 0..<k { packed[p * n + j] = b[j * ldb + p] } }
            packedB = packed
            bRows = UnsafePointer(packed)
        } else {
            bRows = b
        }
        let ldbRows = transposeB ? n : ldb
        defer { packedB?.deallocate() }

        nonisolated(unsafe) let c = c
        parallelFor(m, minimumChunk: max(1, 16_384 / max(1, n * k / 64))) { range in
            for i in range {
                let row = c + i * ldc
                if beta == 0 {
                    row.update(repeating: 0, count: n)
                } else if beta != 1 {
                    for j in 0..<n { row[j] *= beta }
                }
                for p in 0..<k {
                    let aValue = alpha * (transposeA ? a[p * lda + i] : a[i * lda + p])
                    if aValue == 0 { continue }
                    let bRow = bRows + p * ldbRows
                    for j in 0..<n { row[j] += aValue * bRow[j] }
                }
            }
        }
    }
}
