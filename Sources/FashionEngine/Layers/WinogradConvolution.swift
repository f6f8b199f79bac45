import CKernels
import FashionCore

/// A 3×3 convolution with stride 1 and padding 1 by Winograd's minimal filtering, F(2×2, 3×3):
/// each 2×2 block of outputs costs 16 multiplications per channel pair instead of 36, so the
/// convolution's three GEMMs (forward, input gradient, weight gradient) shrink by 2.25×, less the
/// transforms around them. `Conv2d` uses it where it applies (see `Conv2d.Algorithm`).
///
/// The maths and the layouts are in `Sources/CKernels/winograd.c`. Here: images are spread over the
/// threads as in `Conv2d`; each thread transforms a few images at a time (about 196 tiles: the 16
/// GEMMs are wide enough and their operands stay in cache), and the backward pass
/// transforms its input again rather than keeping every image's transform from the forward pass.
final class WinogradConvolution {
    let inChannels: Int
    let outChannels: Int

    /// U = G g Gᵀ of the weights of the last forward pass, [16, O, C].
    private let transformedWeights: Tensor
    /// Per worker: V [16, C, ld], M or dZ [16, O, ld], one V[ξ]ᵀ [ld, C] and the transforms' scratch.
    private var workspace: Tensor?
    /// Per worker: its share of the transformed weight gradient, [workers, 16, O, C].
    private var partialWeightGradients: Tensor?

    /// About how many tiles a thread transforms at a time: enough columns for the GEMMs, few enough that a
    /// chunk's transforms (16 values per tile and channel) stay in the core's L2 cache between the steps.
    static let tilesPerChunk = 196

    init(inChannels: Int, outChannels: Int) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        transformedWeights = Tensor(shape: [16, outChannels, inChannels])
    }

    /// How the batch is cut: per worker a contiguous share of the images, transformed `chunk` images at a time.
    private struct Plan {
        let workers: Int
        let chunk: Int
        let tiles: Int
        let scratch: Int
        var columns: Int { chunk * tiles }
    }

    private func plan(batch: Int, height: Int, width: Int) -> Plan {
        let workers = min(Threads.count, batch)
        let tiles = ((height + 1) / 2) * ((width + 1) / 2)
        let share = (batch + workers - 1) / workers
        let chunk = max(1, min(share, (Self.tilesPerChunk + tiles / 2) / tiles))
        return Plan(workers: workers, chunk: chunk, tiles: tiles, scratch: fl_winograd_scratch_count(height, width))
    }

    /// A worker's share of the workspace.
    private struct Buffers {
        /// V = Bᵀ d B of a chunk's input tiles, [16, C, ld]; in the backward pass, later dV.
        let v: UnsafeMutablePointer<Float>
        /// M = U·V, [16, O, ld]; in the backward pass dZ, the output gradient's transform.
        let m: UnsafeMutablePointer<Float>
        /// One V[ξ]ᵀ, [ld, C], for the weight gradient's GEMM.
        let transposedV: UnsafeMutablePointer<Float>
        /// The transforms' own scratch.
        let scratch: UnsafeMutablePointer<Float>
    }

    private func workspaceFloats(_ plan: Plan) -> Int {
        (16 * (inChannels + outChannels) + inChannels) * plan.columns + plan.scratch
    }

    /// Prepares the per-worker buffers and runs `body(worker, images, buffers)` on every chunk of images, the
    /// workers in parallel.
    private func forEachChunk(batch: Int, _ plan: Plan, _ body: (Int, Range<Int>, Buffers) -> Void) {
        let perWorker = workspaceFloats(plan)
        let workspace = Tensor.reuse(self.workspace, shape: [plan.workers, perWorker])
        self.workspace = workspace
        let base = workspace.data
        let (inChannels, columns, chunk, workers) = (self.inChannels, plan.columns, plan.chunk, plan.workers)
        forEachShare(ofBatch: batch, workers: workers) { worker, images in
            let v = base + worker * perWorker
            let m = v + 16 * inChannels * columns
            let transposedV = m + 16 * outChannels * columns
            let buffers = Buffers(v: v, m: m, transposedV: transposedV, scratch: transposedV + inChannels * columns)
            for first in stride(from: images.lowerBound, to: images.upperBound, by: chunk) {
                body(worker, first..<min(first + chunk, images.upperBound), buffers)
            }
        }
    }

    /// y = conv(x, weight) + bias, for x [B, C, H, W] into y [B, O, H, W].
    func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, into y: Tensor) {
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        let plan = plan(batch: batch, height: height, width: width)
        let (input, output, w, u, biasValues) = (x.data, y.data, weight.data, transformedWeights.data, bias?.data)
        let (inChannels, outChannels) = (self.inChannels, self.outChannels)
        parallelFor(outChannels, minimumChunk: 8) { range in
            fl_winograd_weights(w, outChannels, inChannels, u, range.lowerBound, range.upperBound)
        }
        let (inPlane, outPlane) = (inChannels * height * width, outChannels * height * width)
        forEachChunk(batch: batch, plan) { _, images, buffers in
            let (v, m, scratch) = (buffers.v, buffers.m, buffers.scratch)
            let ld = images.count * plan.tiles
            fl_winograd_input(input + images.lowerBound * inPlane, images.count, inChannels, height, width, v, ld, scratch)
            for xi in 0..<16 {
                // M[ξ] [O, ld] = U[ξ] [O, C] · V[ξ] [C, ld]
                BLAS.shared.gemm(transposeA: false, transposeB: false, m: outChannels, n: ld, k: inChannels, alpha: 1,
                                 a: u + xi * outChannels * inChannels, lda: inChannels, b: v + xi * inChannels * ld, ldb: ld,
                                 beta: 0, c: m + xi * outChannels * ld, ldc: ld)
            }
            fl_winograd_output(m, ld, images.count, outChannels, height, width, biasValues, output + images.lowerBound * outPlane, scratch)
        }
    }

    /// The weight gradient (written when `beta` is 0, else added) and, when `inputGradient` is given,
    /// the input gradient, from the forward pass's input x and the output gradient dy. Uses the weights
    /// of the last `forward`.
    func backward(_ x: Tensor, outputGradient dy: Tensor, weightGradient: Tensor, beta: Float, inputGradient: Tensor?) {
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        let plan = plan(batch: batch, height: height, width: width)
        let (inChannels, outChannels) = (self.inChannels, self.outChannels)
        let weightPlane = outChannels * inChannels
        let partials = Tensor.reuse(partialWeightGradients, shape: [plan.workers, 16, outChannels, inChannels])
        partialWeightGradients = partials
        partials.fill(0)
        let (input, gradient, u, parts, dx) = (x.data, dy.data, transformedWeights.data, partials.data, inputGradient?.data)
        let (inPlane, outPlane) = (inChannels * height * width, outChannels * height * width)
        forEachChunk(batch: batch, plan) { worker, images, buffers in
            let (v, dz, transposedV, scratch) = (buffers.v, buffers.m, buffers.transposedV, buffers.scratch)
            let ld = images.count * plan.tiles
            fl_winograd_input(input + images.lowerBound * inPlane, images.count, inChannels, height, width, v, ld, scratch)
            fl_winograd_output_gradient(gradient + images.lowerBound * outPlane, images.count, outChannels, height, width, dz, ld, scratch)
            let partial = parts + worker * 16 * weightPlane
            for xi in 0..<16 {
                let (vXi, dzXi) = (v + xi * inChannels * ld, dz + xi * outChannels * ld)
                // dU[ξ] [O, C] += dZ[ξ] [O, ld] · V[ξ]ᵀ, with V[ξ]ᵀ at hand as a [ld, C] matrix: the GEMM then
                // accumulates in registers along rows of C (the broadcast form), where with V[ξ] as it is each
                // element of dU would be a dot product of only ld terms, summed across a vector's lanes at the end.
                fl_transpose(vXi, inChannels, ld, ld, transposedV, inChannels)
                BLAS.shared.gemm(transposeA: false, transposeB: false, m: outChannels, n: inChannels, k: ld, alpha: 1,
                                 a: dzXi, lda: ld, b: transposedV, ldb: inChannels, beta: 1, c: partial + xi * weightPlane, ldc: inChannels)
                if dx != nil {
                    // dV[ξ] [C, ld] = U[ξ]ᵀ · dZ[ξ], over V[ξ], which is no longer needed
                    BLAS.shared.gemm(transposeA: true, transposeB: false, m: inChannels, n: ld, k: outChannels, alpha: 1,
                                     a: u + xi * weightPlane, lda: inChannels, b: dzXi, ldb: ld, beta: 0, c: vXi, ldc: ld)
                }
            }
            if let dx {
                fl_winograd_input_gradient(v, ld, images.count, inChannels, height, width, dx + images.lowerBound * inPlane, scratch)
            }
        }
        let (dw, workers) = (weightGradient.data, plan.workers)
        parallelFor(outChannels, minimumChunk: 8) { range in
            fl_winograd_weight_gradient(parts, workers, outChannels, inChannels, dw, beta == 0 ? 0 : 1, range.lowerBound, range.upperBound)
        }
    }
}
