import CKernels
import FashionCore

/// Elementwise CPU kernels the layers share (the loops themselves live in CKernels).
enum Kernels {
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
