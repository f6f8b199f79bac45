import CKernels
import FashionCore

/// Elementwise CPU kernels the layers share (the loops themselves live in CKernels).
enum Kernels {
    /// out[r, c] += v[c] for every row, then rectified when `relu`.
    static func addRowVector(_ out: Tensor, _ vector: Tensor, relu: Bool = false) {
        let (data, columns) = (out.data, vector.count)
        // Split over the cores only for evaluation's large batches; a training batch is one chunk.
        parallelFor(out.count / columns, minimumChunk: max(1, 32_768 / columns)) { rows in
            fl_add_row_vector(data + rows.lowerBound * columns, vector.data, rows.count, columns, relu ? 1 : 0)
        }
    }

    /// dx = output <= 0 ? 0 : dy (the ReLU's gradient, given its output).
    static func reluBackward(_ dx: Tensor, _ dy: Tensor, output: Tensor) { fl_relu_backward(dx.data, dy.data, output.data, dy.count) }

    /// sum[c] (+)= Σ_r x[r, c].
    static func sumRows(_ x: Tensor, into sum: Tensor, accumulate: Bool) {
        fl_sum_rows(sum.data, x.data, x.count / sum.count, sum.count, accumulate ? 1 : 0)
    }

    /// y += a·x.
    static func axpy(_ a: Float, _ x: Tensor, into y: Tensor) {
        for i in 0..<x.count { y.data[i] += a * x.data[i] }
    }
}
