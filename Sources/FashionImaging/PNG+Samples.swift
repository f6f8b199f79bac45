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

    /// Undoes the filter of one row in place: `row` is its filter byte then `count` bytes (None, Sub, Up,
    /// Average, Paeth), `above` the row above it, already unfiltered (zeros above a pass's first row).
    static func unfilter(_ row: UnsafeMutableBufferPointer<UInt8>, above: UnsafeMutableBufferPointer<UInt8>, count: Int,
                         distance: Int, rowIndex: Int, name: String) throws {
        let filter = row[0]
        guard filter <= 4 else { throw ImageError(name, "unknown filter type \(filter) on row \(rowIndex)") }
        guard filter != 0 else { return }
        // Byte x of the row is at x + 1, after the filter byte.
        for x in 1...count {
            let a = x > distance ? Int(row[x - distance]) : 0
            let b = Int(above[x])
            let c = x > distance ? Int(above[x - distance]) : 0
            let predictor: Int
            switch filter {
            case 1: predictor = a
            case 2: predictor = b
            case 3: predictor = (a + b) / 2
            default:
                let p = a + b - c
                let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
            }
            row[x] = row[x] &+ UInt8(truncatingIfNeeded: predictor)
        }
    }

    /// Reads every pass of the image data (``Adam7``) row by row into `out`, `channels` bytes a pixel: the 8-bit
    /// samples as stored (gray and colour scaled to 0…255, 16-bit rounded to nearest; a palette looked up; with a
    /// tRNS `transparentKey` one more sample, the alpha: 0 where the raw samples equal the key), or with one
    /// channel their gray (``Image/gray(_:_:_:_:channels:background:)``). Two rows of raw samples are all it holds.
    static func readRows(from inflater: inout Inflater, format: SampleFormat, passes: [Adam7.Pass], palette: Palette?,
                         transparentKey: [Int]?, width: Int, channels: Int, into out: UnsafeMutableBufferPointer<UInt8>,
                         name: String) throws {
        let stored = palette?.channels ?? format.channels + (transparentKey == nil ? 0 : 1)
        let maxSample = (1 << format.depth) - 1
        let rowCapacity = format.rowBytes(width: width) + 1
        let rows = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 2 * rowCapacity)
        defer { rows.deallocate() }
        var current = UnsafeMutableBufferPointer(rebasing: rows[0..<rowCapacity])
        var above = UnsafeMutableBufferPointer(rebasing: rows[rowCapacity...])
        var raw = [Int](repeating: 0, count: format.channels)
        var samples: [UInt8] = [0, 0, 0, 255]
        for pass in passes where pass.width > 0 && pass.height > 0 {
            let rowBytes = format.rowBytes(width: pass.width)
            above.update(repeating: 0)
            for py in 0..<pass.height {
                try inflater.read(into: UnsafeMutableBufferPointer(rebasing: current[0...rowBytes]))
                try unfilter(current, above: above, count: rowBytes, distance: format.filterDistance, rowIndex: py, name: name)
                let y = pass.y0 + py * pass.dy
                for px in 0..<pass.width {
                    for c in 0..<format.channels {
                        let sample = px * format.channels + c
                        switch format.depth {
                        case 16: raw[c] = Int(current[1 + 2 * sample]) << 8 | Int(current[2 + 2 * sample])
                        case 8: raw[c] = Int(current[1 + sample])
                        default:
                            let bit = sample * format.depth
                            raw[c] = Int(current[1 + bit / 8]) >> (8 - format.depth - bit % 8) & maxSample
                        }
                    }
                    if let palette {
                        try palette.look(up: raw[0], into: &samples, name: name)
                    } else {
                        for c in 0..<format.channels {
                            // Nearest 8-bit value: v·255/max rounded (exact for 1/2/4 bits: 255 is a multiple of their max).
                            samples[c] = UInt8((raw[c] * 255 + maxSample / 2) / maxSample)
                        }
                        if let transparentKey { samples[format.channels] = raw == transparentKey ? 0 : 255 }
                    }
                    let target = (y * width + pass.x0 + px * pass.dx) * channels
                    if channels == 1 && stored > 1 {
                        out[target] = Image.gray(samples[0], samples[1], samples[2], samples[3], channels: stored)
                    } else {
                        for c in 0..<stored { out[target + c] = samples[c] }
                    }
                }
                swap(&current, &above)
            }
        }
    }
}
