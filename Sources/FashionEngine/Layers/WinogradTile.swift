import CKernels

/// The two Winograd variants for 3×3 convolutions: F(2×2, 3×3), which computes 2×2 blocks of outputs from
/// 4×4 transformed inputs (16 multiplications per block and channel pair; `Sources/CKernels/winograd.c`), and
/// F(4×4, 3×3), 4×4 blocks from 6×6 (36 per block; `winograd4.c`): 4 and 2.25 multiplications per output
/// against direct convolution's 9. The larger tile saves more, at the price of dearer transforms and of
/// rounding a plane up to a multiple of 4.
public enum WinogradTile: Sendable, Equatable {
    case twoByTwo
    case fourByFour

    /// The side of a block of outputs: 2 or 4.
    var size: Int { self == .twoByTwo ? 2 : 4 }
    /// The points of the transform, (size + 2)²: the number of GEMMs per chunk of images.
    var points: Int { (size + 2) * (size + 2) }
    /// Tiles per H×W plane.
    func tiles(height: Int, width: Int) -> Int { ((height + size - 1) / size) * ((width + size - 1) / size) }
    /// Multiplications per plane and channel pair.
    func multiplications(height: Int, width: Int) -> Int { points * tiles(height: height, width: width) }

    /// The tile for an H×W plane: F(4×4) where it saves at least a quarter of F(2×2)'s multiplications (every
    /// plane of the built-in CNNs: 28×28 and 7×7 save 44%, 14×14 27%), else F(2×2), whose transforms are cheaper.
    public static func best(height: Int, width: Int) -> WinogradTile {
        let (four, two) = (Self.fourByFour.multiplications(height: height, width: width),
                           Self.twoByTwo.multiplications(height: height, width: width))
        return 4 * four <= 3 * two ? .fourByFour : .twoByTwo
    }

    /// About how many tiles a thread transforms at a time: enough columns for the GEMMs, few enough that a
    /// chunk's transforms (`points` values per tile and channel) stay in the core's L2 cache between the steps.
    var tilesPerChunk: Int { self == .twoByTwo ? 196 : 98 }

    // The transforms of winograd.c or winograd4.c (their arguments are documented in CKernels.h).

    func scratchCount(height: Int, width: Int) -> Int {
        self == .twoByTwo ? fl_winograd_scratch_count(height, width) : fl_winograd4_scratch_count(height, width)
    }

    func transformWeights(_ w: UnsafePointer<Float>, outChannels: Int, channels: Int, into u: UnsafeMutablePointer<Float>,
                          outputChannels range: Range<Int>) {
        switch self {
        case .twoByTwo: fl_winograd_weights(w, outChannels, channels, u, range.lowerBound, range.upperBound)
        case .fourByFour: fl_winograd4_weights(w, outChannels, channels, u, range.lowerBound, range.upperBound)
        }
    }

    func weightGradient(parts du: UnsafeMutablePointer<Float>, count: Int, outChannels: Int, channels: Int,
                        into dw: UnsafeMutablePointer<Float>, accumulate: Bool, outputChannels range: Range<Int>) {
        let add: Int32 = accumulate ? 1 : 0
        switch self {
        case .twoByTwo: fl_winograd_weight_gradient(du, count, outChannels, channels, dw, add, range.lowerBound, range.upperBound)
        case .fourByFour: fl_winograd4_weight_gradient(du, count, outChannels, channels, dw, add, range.lowerBound, range.upperBound)
        }
    }

    func transformInput(_ x: UnsafePointer<Float>, images: Int, channels: Int, height: Int, width: Int,
                        into v: UnsafeMutablePointer<Float>, ld: Int, scratch: UnsafeMutablePointer<Float>) {
        switch self {
        case .twoByTwo: fl_winograd_input(x, images, channels, height, width, v, ld, scratch)
        case .fourByFour: fl_winograd4_input(x, images, channels, height, width, v, ld, scratch)
        }
    }

    func transformOutput(_ m: UnsafePointer<Float>, ld: Int, images: Int, outChannels: Int, height: Int, width: Int,
                         bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        switch self {
        case .twoByTwo: fl_winograd_output(m, ld, images, outChannels, height, width, bias, y, scratch)
        case .fourByFour: fl_winograd4_output(m, ld, images, outChannels, height, width, bias, y, scratch)
        }
    }

    func transformOutputGradient(_ dy: UnsafePointer<Float>, images: Int, outChannels: Int, height: Int, width: Int,
                                 into dz: UnsafeMutablePointer<Float>, ld: Int, scratch: UnsafeMutablePointer<Float>) {
        switch self {
        case .twoByTwo: fl_winograd_output_gradient(dy, images, outChannels, height, width, dz, ld, scratch)
        case .fourByFour: fl_winograd4_output_gradient(dy, images, outChannels, height, width, dz, ld, scratch)
        }
    }

    func inputGradient(_ dv: UnsafePointer<Float>, ld: Int, images: Int, channels: Int, height: Int, width: Int,
                       into dx: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        switch self {
        case .twoByTwo: fl_winograd_input_gradient(dv, ld, images, channels, height, width, dx, scratch)
        case .fourByFour: fl_winograd4_input_gradient(dv, ld, images, channels, height, width, dx, scratch)
        }
    }
}
