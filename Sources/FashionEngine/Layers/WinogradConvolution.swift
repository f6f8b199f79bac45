import CKernels
import FashionCore

/// A 3×3 convolution with stride 1 and padding 1 by Winograd's minimal filtering, F(2×2, 3×3) or
/// F(4×4, 3×3) (`WinogradTile`): each block of outputs costs (size + 2)² multiplications per channel pair
/// instead of 9·size², so the convolution's three GEMMs (forward, input gradient, weight gradient) shrink by
/// 2.25× or 4×, less the transforms around them. `Conv2d` uses it where it applies (see `Conv2d.Algorithm`).
///
/// The maths and the layouts are in `Sources/CKernels/winograd.c` and `winograd4.c`. Here: images are
/// spread over the threads as in `Conv2d`; each thread transforms a few images at a time (about
/// `tilesPerChunk` tiles: the GEMMs are wide enough and their operands stay in cache), and the backward pass
/// transforms its input again rather than keeping every image's transform from the forward pass.
final class WinogradConvolution {
    let inChannels: Int
    let outChannels: Int
    /// The variant, or nil: the best for each plane size (`WinogradTile.best`).
    let fixedTile: WinogradTile?

    /// U = G g Gᵀ of the weights of the last forward pass, [points, O, C], and the tile it was made for.
    private var transformedWeights: Tensor?
    private var transformedTile: WinogradTile?
    /// Per worker: V [points, C, ld], M or dZ [points, O, ld], one V[ξ]ᵀ [ld, C] and the transforms' scratch.
    private var workspace: Tensor?
    /// Per worker: its share of the transformed weight gradient, [workers, points, O, C].
    private var partialWeightGradients: Tensor?

    init(inChannels: Int, outChannels: Int, tile: WinogradTile? = nil) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        fixedTile = tile
    }

    /// How the batch is cut: per worker a contiguous share of the images, transformed `chunk` images at a time.
    private struct Plan {
        let tile: WinogradTile
        let workers: Int
        let chunk: Int
        let tiles: Int
        let scratch: Int
        var columns: Int { chunk * tiles }
        var points: Int { tile.points }
    }

    private func plan(batch: Int, height: Int, width: Int) -> Plan {
        let tile = fixedTile ?? .best(height: height, width: width)
        let workers = min(Threads.count, batch)
        let tiles = tile.tiles(height: height, width: width)
        let share = (batch + workers - 1) / workers
        let chunk = max(1, min(share, (tile.tilesPerChunk + tiles / 2) / tiles))
        return Plan(tile: tile, workers: workers, chunk: chunk, tiles: tiles, scratch: tile.scratchCount(height: height, width: width))
    }

    /// A worker's share of the workspace.
    private struct Buffers {
        /// V = Bᵀ d B of a chunk's input tiles, [points, C, ld]; in the backward pass, later dV.
        let v: UnsafeMutablePointer<Float>
        /// M = U·V, [points, O, ld]; in the backward pass dZ, the output gradient's transform.
        let m: UnsafeMutablePointer<Float>
        /// One V[ξ]ᵀ, [ld, C], for the weight gradient's GEMM.
        let transposedV: UnsafeMutablePointer<Float>
        /// The transforms' own scratch.
        let scratch: UnsafeMutablePointer<Float>
    }

    private func workspaceFloats(_ plan: Plan) -> Int {
        (plan.points * (inChannels + outChannels) + inChannels) * plan.columns + plan.scratch
    }

    /// Prepares the per-worker buffers and runs `body(worker, images, buffers)` on every chunk of images, the
    /// workers in parallel.
    private func forEachChunk(batch: Int, _ plan: Plan, _ body: (Int, Range<Int>, Buffers) -> Void) {
        let perWorker = workspaceFloats(plan)
        let workspace = Tensor.reuse(self.workspace, shape: [plan.workers, perWorker])
        self.workspace = workspace
        let base = workspace.data
        let (inChannels, columns, chunk, workers, points) = (self.inChannels, plan.columns, plan.chunk, plan.workers, plan.points)
        forEachShare(ofBatch: batch, workers: workers) { worker, images in
            let v = base + worker * perWorker
            let m = v + points * inChannels * columns
            let transposedV = m + points * outChannels * columns
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
        let tile = plan.tile
        let transformed = Tensor.reuse(transformedWeights, shape: [plan.points, outChannels, inChannels])
        (transformedWeights, transformedTile) = (transformed, tile)
        let (input, output, w, u, biasValues) = (x.data, y.data, weight.data, transformed.data, bias?.data)
        let (inChannels, outChannels) = (self.inChannels, self.outChannels)
        parallelFor(outChannels, minimumChunk: 8) { range in
            tile.transformWeights(w, outChannels: outChannels, channels: inChannels, into: u, outputChannels: range)
        }
        let (inPlane, outPlane) = (inChannels * height * width, outChannels * height * width)
        forEachChunk(batch: batch, plan) { _, images, buffers in
            let (v, m, scratch) = (buffers.v, buffers.m, buffers.scratch)
            let ld = images.count * plan.tiles
            tile.transformInput(input + images.lowerBound * inPlane, images: images.count, channels: inChannels, height: height,
                                width: width, into: v, ld: ld, scratch: scratch)
            for xi in 0..<plan.points {
                // M[ξ] [O, ld] = U[ξ] [O, C] · V[ξ] [C, ld]
                BLAS.shared.gemm(transposeA: false, transposeB: false, m: outChannels, n: ld, k: inChannels, alpha: 1,
                                 a: u + xi * outChannels * inChannels, lda: inChannels, b: v + xi * inChannels * ld, ldb: ld,
                                 beta: 0, c: m + xi * outChannels * ld, ldc: ld)
            }
            tile.transformOutput(m, ld: ld, images: images.count, outChannels: outChannels, height: height, width: width,
                                 bias: biasValues, into: output + images.lowerBound * outPlane, scratch: scratch)
        }
    }

    /// The weight gradient (written when `beta` is 0, else added) and, when `inputGradient` is given,
    /// the input gradient, from the forward pass's input x and the output gradient dy. Uses the weights
    /// of the last `forward`.
    func backward(_ x: Tensor, outputGradient dy: Tensor, weightGradient: Tensor, beta: Float, inputGradient: Tensor?) {
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        let plan = plan(batch: batch, height: height, width: width)
        guard let transformedWeights, transformedTile == plan.tile else { preconditionFailure("Winograd backward before its forward") }
        let (tile, points) = (plan.tile, plan.points)
        let (inChannels, outChannels) = (self.inChannels, self.outChannels)
        let weightPlane = outChannels * inChannels
        let partials = Tensor.reuse(partialWeightGradients, shape: [plan.workers, points, outChannels, inChannels])
        partialWeightGradients = partials
        partials.fill(0)
        let (input, gradient, u, parts, dx) = (x.data, dy.data, transformedWeights.data, partials.data, inputGradient?.data)
        let (inPlane, outPlane) = (inChannels * height * width, outChannels * height * width)
        forEachChunk(batch: batch, plan) { worker, images, buffers in
            let (v, dz, transposedV, scratch) = (buffers.v, buffers.m, buffers.transposedV, buffers.scratch)
            let ld = images.count * plan.tiles
            tile.transformInput(input + images.lowerBound * inPlane, images: images.count, channels: inChannels, height: height,
                                width: width, into: v, ld: ld, scratch: scratch)
            tile.transformOutputGradient(gradient + images.lowerBound * outPlane, images: images.count, outChannels: outChannels,
                                         height: height, width: width, into: dz, ld: ld, scratch: scratch)
            let partial = parts + worker * points * weightPlane
            for xi in 0..<points {
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
                tile.inputGradient(v, ld: ld, images: images.count, channels: inChannels, height: height, width: width,
                                   into: dx + images.lowerBound * inPlane, scratch: scratch)
            }
        }
        let (dw, workers) = (weightGradient.data, plan.workers)
        parallelFor(outChannels, minimumChunk: 8) { range in
            tile.weightGradient(parts: parts, count: workers, outChannels: outChannels, channels: inChannels, into: dw,
                                accumulate: beta != 0, outputChannels: range)
        }
    }
}
