/// EXIF's orientation values 1…8, each named by what must be done to the stored picture to show it upright
/// (what a viewer does; EXIF calls 6 "rotate 90 CW" too).
public enum Orientation: Int, Sendable, CaseIterable {
    case upright = 1
    case flipHorizontal = 2
    case rotate180 = 3
    case flipVertical = 4
    case transpose = 5            // mirror along the main diagonal (top-left to bottom-right)
    case rotate90Clockwise = 6    // a phone held upright: its sensor's rows run down the picture
    case transverse = 7           // mirror along the other diagonal
    case rotate90CounterClockwise = 8

    /// True when the upright picture has the stored one's width and height swapped.
    public var swapsSides: Bool { rawValue >= 5 }
}

extension Image {
    /// The image turned upright from `orientation` (a copy; the upright one is returned as it is).
    public func oriented(_ orientation: Orientation) -> Image {
        if orientation == .upright { return self }
        let (w, h) = (width, height)
        let outWidth = orientation.swapsSides ? h : w, outHeight = orientation.swapsSides ? w : h
        var out = [UInt8](repeating: 0, count: pixels.count)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                // Which stored pixel lands at (x, y) of the upright picture.
                let (sx, sy): (Int, Int)
                switch orientation {
                case .upright: (sx, sy) = (x, y)
                case .flipHorizontal: (sx, sy) = (w - 1 - x, y)
                case .rotate180: (sx, sy) = (w - 1 - x, h - 1 - y)
                case .flipVertical: (sx, sy) = (x, h - 1 - y)
                case .transpose: (sx, sy) = (y, x)
                case .rotate90Clockwise: (sx, sy) = (y, h - 1 - x)
                case .transverse: (sx, sy) = (w - 1 - y, h - 1 - x)
                case .rotate90CounterClockwise: (sx, sy) = (w - 1 - y, x)
                }
                let source = (sy * w + sx) * channels, target = (y * outWidth + x) * channels
                for c in 0..<channels { out[target + c] = pixels[source + c] }
            }
        }
        return Image(width: outWidth, height: outHeight, channels: channels, pixels: out)
    }
}
