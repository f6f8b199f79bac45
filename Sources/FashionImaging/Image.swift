/// An 8-bit image: `channels` bytes per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), rows top to bottom.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "pixel buffer does not match \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A blank image filled with one gray value.
    public init(width: Int, height: Int, gray: UInt8) {
        self.init(width: width, height: height, channels: 1, pixels: [UInt8](repeating: gray, count: width * height))
    }

    /// The image in one gray channel (``gray(_:_:_:_:channels:background:)`` of each pixel).
    public func grayscale(background: UInt8 = 255) -> Image {
        if channels == 1 { return self }
        var gray = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            let p = i * channels
            let last = channels - 1
            gray[i] = Self.gray(pixels[p], pixels[p + min(1, last)], pixels[p + min(2, last)], pixels[p + last],
                                channels: channels, background: background)
        }
        return Image(width: width, height: height, channels: 1, pixels: gray)
    }

    /// The gray value a person sees of one pixel of `channels` samples `s0`… (1 gray, 2 gray+alpha, 3 RGB,
    /// 4 RGBA; the samples past `channels` are ignored): ITU-R BT.601 luma, alpha composited on `background`.
    /// The one rule every decoder and ``grayscale(background:)`` use.
    @inline(__always)
    public static func gray(_ s0: UInt8, _ s1: UInt8, _ s2: UInt8, _ s3: UInt8, channels: Int, background: UInt8 = 255) -> UInt8 {
        var value = channels >= 3 ? 0.299 * Float(s0) + 0.587 * Float(s1) + 0.114 * Float(s2) : Float(s0)
        if channels == 2 || channels == 4 {
            let alpha = Float(channels == 2 ? s1 : s3) / 255
            value = value * alpha + Float(background) * (1 - alpha)
        }
        return UInt8(max(0, min(255, value.rounded())))
    }
}

/// What a decoder makes of a picture's samples.
public enum PixelLayout: Sendable, Equatable {
    /// The samples as stored, 8-bit: gray, gray+alpha, RGB or RGBA, alpha kept.
    case stored
    /// One gray channel, alpha over white (``Image/gray(_:_:_:_:channels:background:)``): what `predict` and
    /// `serve` classify, decoded in a quarter of RGBA's memory.
    case gray
}
