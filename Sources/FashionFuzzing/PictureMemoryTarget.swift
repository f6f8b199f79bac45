import Foundation
import FashionImaging

/// Pictures of extreme shape, bit depth, colour type and interlace, through `predict`'s decoding and preparation,
/// each checked against the working memory ``ImageLimits`` promises by the peak resident memory it took.
///
/// The inputs stay well-formed (valid CRCs, zlib data of the right size: rows of zeros, a few hundred kilobytes
/// at most) and change what the header asks for: from 1×1 to just past the pixel limit, in every proportion from
/// a single row or column to a square, at every depth PNG allows for each colour type, with and without tRNS and
/// Adam7. The peak is measured by the kernel: the process's high-water mark (`VmHWM`) is reset to its current
/// size before each input (`/proc/self/clear_refs`) and read after it.
extension FuzzTargets {
    /// What a hostile picture's header asks for.
    struct PictureShape: Sendable, CustomStringConvertible {
        var width = 28, height = 28
        var colorType: UInt8 = 0, depth: UInt8 = 8
        var interlaced = false, transparency = false

        var description: String {
            "\(width)×\(height) colour type \(colorType) \(depth)-bit" + (interlaced ? " Adam7" : "") + (transparency ? " tRNS" : "")
        }

        /// The file, its tRNS chunk the size its colour type asks for.
        func png() throws -> [UInt8] {
            let transparency: [UInt8]? = switch (self.transparency, colorType) {
            case (true, 0): [0, 0]
            case (true, 2): [0, 0, 0, 0, 0, 0]
            case (true, 3): [0]
            default: nil
            }
            return try PNG.blank(width: width, height: height, colorType: colorType, depth: depth, interlaced: interlaced,
                                 transparency: transparency)
        }
    }

    /// How far past ``ImageLimits/maxWorkingMemory`` a peak may go: the process's own allocations around the input.
    static let pictureMemorySlack = 16_000_000

    static var pictureMemory: FuzzTarget {
        let seeds = [PictureShape(), PictureShape(width: 7071, height: 7071, colorType: 6, depth: 16),
                     PictureShape(width: 50_000_000, height: 1, colorType: 0, depth: 8),
                     PictureShape(width: 1, height: 50_000_000, colorType: 3, depth: 8, interlaced: true, transparency: true)]
        return .structured("picture-memory", summary: "pictures of extreme shape and depth through predict's decoding, peak memory per input",
                           seeds: seeds, mutate: mutateShape) { shape in
            let png = try shape.png()
            let baseline = ResidentMemory.resetPeak()
            var refusal: Error?
            do { _ = FashionInput.prepare(try FashionInput.decode(png, name: "fuzz.png")) } catch { refusal = error }
            if let baseline, let peak = ResidentMemory.peak(), peak - baseline > ImageLimits.maxWorkingMemory + pictureMemorySlack {
                throw FuzzViolation("\(shape) (\(png.count) bytes): \((peak - baseline) / 1_000_000) MB at its peak, "
                    + "more than the \(ImageLimits.maxWorkingMemory / 1_000_000) MB of working memory promised"
                    + (refusal.map { " (then refused: \($0))" } ?? ""))
            }
            if let refusal { throw refusal }
        }
    }

    /// A new header: a pixel count from tiny to just past the limit, a proportion from one row or column to a square,
    /// a colour type with one of its depths, interlaced or not, tRNS or not.
    static func mutateShape(_ shape: inout PictureShape, _ m: inout Mutator) {
        let limit = ImageLimits.maxPixels
        let pixels = m.pick([limit, limit - m.below(1000), limit + 1 + m.below(1000), 1 + m.below(limit), 1 + m.below(4096)])
        let short = m.pick([1, 2, 3, 7, 8, 9, 1 + m.below(64), max(1, Int(Double(pixels).squareRoot()))])
        let long = max(1, pixels / short)
        (shape.width, shape.height) = m.oneIn(2) ? (long, short) : (short, long)
        let (colorType, depths): (UInt8, [UInt8]) = m.pick([(0, [1, 2, 4, 8, 16]), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16])])
        shape.colorType = colorType
        shape.depth = m.pick(depths)
        shape.interlaced = m.oneIn(2)
        shape.transparency = m.oneIn(3)
    }
}

/// This process's resident memory as the kernel counts it (Linux; nil elsewhere).
enum ResidentMemory {
    /// Sets the high-water mark to the current resident size and returns that size, in bytes.
    static func resetPeak() -> Int? {
        guard let file = fopen("/proc/self/clear_refs", "w") else { return nil }
        fputs("5", file)
        fclose(file)
        return status("VmRSS:")
    }

    /// The high-water mark since the last reset, in bytes.
    static func peak() -> Int? { status("VmHWM:") }

    /// A "kB" field of /proc/self/status, in bytes.
    private static func status(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kilobytes = Int(line.dropFirst(field.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        else { return nil }
        return kilobytes * 1024
    }
}
