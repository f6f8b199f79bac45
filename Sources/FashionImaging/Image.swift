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

    /// The image in one gray channel (ITU-R BT.601 luma; alpha composited on `background`).
    public func grayscale(background: UInt8 = 255) -> Image {
        if channels == 1 { return self }
        var gray = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            let p = i * channels
            var value: Float
            switch channels {
            case 2: value = Float(pixels[p])
            default: value = 0.299 * Float(pixels[p]) + 0.587 * Float(pixels[p + 1]) + 0.114 * Float(pixels[p + 2])
            }
            if channels == 2 || channels == 4 {
                let alpha = Float(pixels[p + channels - 1]) / 255
                value = value * alpha + Float(background) * (1 - alpha)
            }
            gray[i] = UInt8(max(0, min(255, value.rounded())))
        }
        return Image(width: width, height: height, channels: 1, pixels: gray)
    }
}
