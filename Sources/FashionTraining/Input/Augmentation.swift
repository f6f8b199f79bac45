import FashionCore
import Foundation

/// Random changes to training images, as torchvision's transforms do them, drawn per image from the
/// run's generator (so a resumed run draws the same ones). Evaluation never augments.
///
/// Order per image: horizontal flip (`RandomHorizontalFlip`), shift within a zero-padded frame
/// (`RandomCrop(28, padding: p)`; padding takes the value a black pixel encodes to), then
/// `RandomErasing` (a rectangle of 2–33% of the image, aspect ratio 0.3–3.3, set to 0).
public struct Augmentation: Codable, Sendable, Equatable {
    /// Mirror left–right with probability ½.
    public var flip: Bool
    /// Pad by this many pixels on every side and crop back at a random offset; 0 for none.
    public var cropPadding: Int
    /// Probability of erasing a random rectangle; 0 for none.
    public var erasing: Float

    public init(flip: Bool = false, cropPadding: Int = 0, erasing: Float = 0) {
        self.flip = flip
        self.cropPadding = cropPadding
        self.erasing = erasing
    }

    /// True when it changes nothing.
    public var isIdentity: Bool { !flip && cropPadding == 0 && erasing == 0 }

    /// A short description: `flip, crop 2, erasing 0.5`.
    public var summary: String {
        var parts: [String] = []
        if flip { parts.append("flip") }
        if cropPadding > 0 { parts.append("crop \(cropPadding)") }
        if erasing > 0 { parts.append("erasing \(erasing)") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// How many `Int32`s describe one image's changes in `draw(into:…)`: flip (0 or 1), the shift dy and dx,
    /// and the erased rectangle's top, left, height and width (height 0: nothing erased).
    public static let changeWords = 7

    /// Draws the changes of `count` images from `generator` into `changes` (`changeWords` each), in the
    /// order torchvision draws them. Both backends draw here and then apply the same changes.
    public func draw(into changes: UnsafeMutableBufferPointer<Int32>, count: Int, height: Int, width: Int,
                     using generator: inout SeededGenerator) {
        for index in 0..<count {
            let change = changes.baseAddress! + index * Self.changeWords
            change.update(repeating: 0, count: Self.changeWords)
            if flip && generator.nextUnitFloat() < 0.5 { change[0] = 1 }
            if cropPadding > 0 {
                let span = UInt64(2 * cropPadding + 1)
                change[1] = Int32(Int(generator.next() % span) - cropPadding)
                change[2] = Int32(Int(generator.next() % span) - cropPadding)
            }
            if erasing > 0 && generator.nextUnitFloat() < erasing,
               let (top, left, h, w) = erasedRectangle(height: height, width: width, using: &generator) {
                (change[3], change[4], change[5], change[6]) = (Int32(top), Int32(left), Int32(h), Int32(w))
            }
        }
    }

    /// Augments `count` images of `height`×`width` stored one after another at `images`, in place, drawing
    /// the changes from `generator`. `black` is the encoded value of a 0 pixel (what padding shows).
    public func apply(to images: UnsafeMutablePointer<Float>, count: Int, height: Int, width: Int, black: Float,
                      using generator: inout SeededGenerator) {
        var changes = [Int32](repeating: 0, count: count * Self.changeWords)
        changes.withUnsafeMutableBufferPointer { draw(into: $0, count: count, height: height, width: width, using: &generator) }
        var scratch = [Float](repeating: 0, count: cropPadding > 0 ? height * width : 0)
        for index in 0..<count {
            let image = images + index * height * width
            let change = index * Self.changeWords
            if changes[change] != 0 {
                for row in 0..<height {
                    var line = UnsafeMutableBufferPointer(start: image + row * width, count: width)
                    line.reverse()
                }
            }
            let (dy, dx) = (Int(changes[change + 1]), Int(changes[change + 2]))
            if dx != 0 || dy != 0 { shift(image, dy: dy, dx: dx, height: height, width: width, fill: black, scratch: &scratch) }
            let (top, left, h, w) = (Int(changes[change + 3]), Int(changes[change + 4]), Int(changes[change + 5]), Int(changes[change + 6]))
            for y in top..<(top + h) { (image + y * width + left).update(repeating: 0, count: w) }
        }
    }

    /// out[y][x] = in[y + dy][x + dx], `fill` outside the image: a crop of the padded image at offset
    /// (padding + dy, padding + dx).
    private func shift(_ image: UnsafeMutablePointer<Float>, dy: Int, dx: Int, height: Int, width: Int, fill: Float,
                       scratch: inout [Float]) {
        scratch.withUnsafeMutableBufferPointer { copy in
            for y in 0..<height {
                let source = y + dy
                for x in 0..<width {
                    let column = x + dx
                    copy[y * width + x] = source >= 0 && source < height && column >= 0 && column < width
                        ? image[source * width + column] : fill
                }
            }
            image.update(from: copy.baseAddress!, count: height * width)
        }
    }

    /// torchvision's `RandomErasing(scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0)`: up to ten tries to
    /// find a rectangle of that area and aspect ratio that fits; nil when none did.
    private func erasedRectangle(height: Int, width: Int, using generator: inout SeededGenerator) -> (Int, Int, Int, Int)? {
        let area = Float(height * width)
        let (logLow, logHigh) = (logf(0.3), logf(3.3))
        for _ in 0..<10 {
            let target = area * (0.02 + (0.33 - 0.02) * generator.nextUnitFloat())
            let ratio = expf(logLow + (logHigh - logLow) * generator.nextUnitFloat())
            let h = Int((target * ratio).squareRoot().rounded())
            let w = Int((target / ratio).squareRoot().rounded())
            guard h > 0, w > 0, h < height, w < width else { continue }
            let top = Int(generator.next() % UInt64(height - h + 1))
            let left = Int(generator.next() % UInt64(width - w + 1))
            return (top, left, h, w)
        }
        return nil
    }
}
