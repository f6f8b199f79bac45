/// From inflated PNG data to 8-bit samples: undoing each row's filter, then unpacking 1/2/4-bit and
/// 16-bit samples.
extension PNG {
    /// How the samples of a PNG are stored: colour type, bit depth, samples per pixel.
    struct SampleFormat {
        let colorType: UInt8
        let depth: Int
        /// Samples per pixel: 1 gray or palette index, 2 gray+alpha, 3 RGB, 4 RGBA.
        let channels: Int

        /// The format of IHDR's colour type and bit depth, or an error for a combination PNG does not allow.
        init(colorType: UInt8, depth: UInt8, name: String) throws {
            let allowed: [UInt8]
            switch colorType {
            case 0: (channels, allowed) = (1, [1, 2, 4, 8, 16])
            case 2: (channels, allowed) = (3, [8, 16])
            case 3: (channels, allowed) = (1, [1, 2, 4, 8])
            case 4: (channels, allowed) = (2, [8, 16])
            case 6: (channels, allowed) = (4, [8, 16])
            default: throw ImageError(name, "unknown colour type \(colorType)")
            }
            guard allowed.contains(depth) else {
                throw ImageError(name, "bit depth \(depth) is not valid for colour type \(colorType) (PNG allows \(allowed.map(String.init).joined(separator: ", ")))")
            }
            self.colorType = colorType
            self.depth = Int(depth)
        }

        /// Bytes in a row of `width` pixels (without its filter byte); sub-byte rows end on a whole byte.
        func rowBytes(width: Int) -> Int { (width * channels * depth + 7) / 8 }

        /// The distance filters look back: bytes per pixel, at least one.
        var filterDistance: Int { max(1, channels * depth / 8) }

        /// The tRNS key of a gray or RGB image (the samples of the one transparent colour, at the image's
        /// depth), or nil when the chunk does not have the size it should (ignored, as libpng does).
        func transparentSample(_ chunk: [UInt8]) -> [Int]? {
            guard chunk.count == 2 * channels, colorType == 0 || colorType == 2 else { return nil }
            return (0..<channels).map { Int(chunk[2 * $0]) << 8 | Int(chunk[2 * $0 + 1]) }
        }
    }

    /// Undoes the filters of `rows` rows of `rowBytes` bytes each, starting at `start` in `data` (each
    /// row a filter byte then its bytes: None, Sub, Up, Average, Paeth). Returns the rows without their
    /// filter bytes.
    static func unfilter(_ data: [UInt8], start: Int, rows: Int, rowBytes: Int, distance: Int, name: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        for y in 0..<rows {
            let filter = data[start + y * (rowBytes + 1)]
            let source = start + y * (rowBytes + 1) + 1
            let row = y * rowBytes
            for x in 0..<rowBytes {
                let a = x >= distance ? Int(out[row + x - distance]) : 0
                let b = y > 0 ? Int(out[row - rowBytes + x]) : 0
                let c = (x >= distance && y > 0) ? Int(out[row - rowBytes + x - distance]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw ImageError(name, "unknown filter type \(filter) on row \(y)")
                }
                out[row + x] = data[source + x] &+ UInt8(truncatingIfNeeded: predictor)
            }
        }
        return out
    }

    /// The image's 8-bit samples, pixel after pixel, from every pass of `filtered` (``Adam7``): gray and
    /// colour scaled to 0…255 (16-bit rounded to nearest), palette indices as they are. With a tRNS
    /// `transparentKey`, each pixel gets one more sample, its alpha: 0 where the raw samples equal the key.
    static func readSamples(_ filtered: [UInt8], format: SampleFormat, passes: [Adam7.Pass], transparentKey: [Int]?,
                            width: Int, height: Int, name: String) throws -> [UInt8] {
        let outChannels = format.channels + (transparentKey == nil ? 0 : 1)
        var out = [UInt8](repeating: 0, count: width * height * outChannels)
        let maxSample = (1 << format.depth) - 1
        let scaled = format.colorType != 3
        var start = 0
        for pass in passes where pass.width > 0 && pass.height > 0 {
            let rowBytes = format.rowBytes(width: pass.width)
            let rows = try unfilter(filtered, start: start, rows: pass.height, rowBytes: rowBytes, distance: format.filterDistance, name: name)
            start += pass.dataSize(format)
            var raw = [Int](repeating: 0, count: format.channels)
            for py in 0..<pass.height {
                let row = py * rowBytes
                let y = pass.y0 + py * pass.dy
                for px in 0..<pass.width {
                    for c in 0..<format.channels {
                        let sample = px * format.channels + c
                        switch format.depth {
                        case 16: raw[c] = Int(rows[row + 2 * sample]) << 8 | Int(rows[row + 2 * sample + 1])
                        case 8: raw[c] = Int(rows[row + sample])
                        default:
                            let bit = sample * format.depth
                            raw[c] = Int(rows[row + bit / 8]) >> (8 - format.depth - bit % 8) & maxSample
                        }
                    }
                    let target = ((y * width) + pass.x0 + px * pass.dx) * outChannels
                    for c in 0..<format.channels {
                        // Nearest 8-bit value: v·255/max rounded (exact for 1/2/4 bits: 255 is a multiple of their max).
                        out[target + c] = scaled ? UInt8((raw[c] * 255 + maxSample / 2) / maxSample) : UInt8(raw[c])
                    }
                    if let transparentKey { out[target + format.channels] = raw == transparentKey ? 0 : 255 }
                }
            }
        }
        return out
    }
}
