/// Elementwise CPU kernels the layers share.
enum Kernels {
    /// out[r, c] += v[c] for every row.
    static func addRowVector(_ out: Tensor, _ vector: Tensor) {
        let columns = vector.count
        let rows = out.count / columns
        let v = vector.data
        for r in 0..<rows {
            let row = out.data + r * columns
            for c in 0..<columns { row[c] += v[c] }
        }
    }

    /// sum[c] (+)= Σ_r x[r, c].
    static func sumRows(_ x: Tensor, into sum: Tensor, accumulate: Bool) {
        let columns = sum.count
        let rows = x.count / columns
        if !accumulate { sum.fill(0) }
        let s = sum.data
        for r in 0..<rows {
            let row = x.data + r * columns
            for c in 0..<columns { s[c] += row[c] }
        }
    }
}
