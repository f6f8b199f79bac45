import CZlib

/// The project's own PNG codec on zlib.
///
/// Writes 8-bit gray, gray+alpha, RGB and RGBA images. Reads every kind of PNG (`decode(_:name:)`): the
/// container here, the samples in PNG+Samples.swift, interlacing in PNG+Adam7.swift, palette and tRNS in
/// PNG+Colour.swift.
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// Images larger than this many pixels are refused before memory is taken for them (``ImageLimits``).
    public static var maxPixels: Int { ImageLimits.maxPixels }

    // MARK: Encoding

    /// The PNG file of `image`.
    public static func encode(_ image: Image) -> [UInt8] {
        let colorType: UInt8 = switch image.channels { case 1: 0; case 2: 4; case 3: 2; default: 6 }
        var header = [UInt8]()
        appendBigEndian(UInt32(image.width), to: &header)
        appendBigEndian(UInt32(image.height), to: &header)
        header += [8, colorType, 0, 0, 0]  // bit depth, colour type, deflate, adaptive filters, no interlace

        // Each row: filter type 1 (Sub) — a good, cheap choice for smooth and blocky images alike.
        let stride = image.width * image.channels
        var filtered = [UInt8](repeating: 0, count: image.height * (stride + 1))
        for y in 0..<image.height {
            let rowStart = y * (stride + 1)
            filtered[rowStart] = 1
            for x in 0..<stride {
                let left = x >= image.channels ? image.pixels[y * stride + x - image.channels] : 0
                filtered[rowStart + 1 + x] = image.pixels[y * stride + x] &- left
            }
        }
        var out = signature
        appendChunk("IHDR", header, to: &out)
        appendChunk("IDAT", zlibCompress(filtered), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        appendBigEndian(UInt32(data.count), to: &out)
        let typeAndData = Array(type.utf8) + data
        out += typeAndData
        appendBigEndian(crc(typeAndData), to: &out)
    }

    /// The CRC-32 PNG chunks carry (over type and data).
    public static func crc(_ bytes: [UInt8]) -> UInt32 {
        UInt32(bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) })
    }

    private static func zlibCompress(_ input: [UInt8]) -> [UInt8] {
        var size = compressBound(uLong(input.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        _ = out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { i in compress2(o.baseAddress, &size, i.baseAddress, uLong(i.count), 9) }
        }
        out.removeLast(out.count - Int(size))
        return out
    }

    /// A PNG file of any header whose samples are all zero, made without holding its rows: the zero bytes
    /// (filter None, zero samples) are deflated as they are counted, about 1 byte of file per 1,000 of image
    /// data. What a stranger sends to make a small file ask for much memory; the tests and fuzzers make
    /// hostile pictures of every shape, depth and colour type with it. A palette image gets a one-colour
    /// palette unless `palette` is given. Throws for a colour type and depth PNG does not allow.
    public static func blank(width: Int, height: Int, colorType: UInt8, depth: UInt8, interlaced: Bool = false,
                             palette: [UInt8]? = nil, transparency: [UInt8]? = nil) throws -> [UInt8] {
        let format = try SampleFormat(colorType: colorType, depth: depth, name: "blank")
        let passes = Adam7.passes(width: width, height: height, interlaced: interlaced)
        let (size, overflow) = passes.reduce((0, false)) { sum, pass in
            let (total, overflow) = sum.0.addingReportingOverflow(pass.dataSize(format))
            return (total, sum.1 || overflow)
        }
        precondition(!overflow && width <= Int(UInt32.max) && height <= Int(UInt32.max), "\(width)×\(height) is too large to write")
        var header = [UInt8]()
        appendBigEndian(UInt32(width), to: &header)
        appendBigEndian(UInt32(height), to: &header)
        header += [depth, colorType, 0, 0, interlaced ? 1 : 0]
        var out = signature
        appendChunk("IHDR", header, to: &out)
        if colorType == 3 { appendChunk("PLTE", palette ?? [0, 0, 0], to: &out) }
        if let transparency { appendChunk("tRNS", transparency, to: &out) }
        appendChunk("IDAT", zlibCompressZeros(count: size), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// The zlib stream of `count` zero bytes, deflated a block at a time.
    private static func zlibCompressZeros(count: Int) -> [UInt8] {
        // On the heap: zlib keeps its address, so it must not move.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        precondition(deflateInit_(stream, 9, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK, "zlib could not start deflating")
        defer { deflateEnd(stream); stream.deallocate() }
        var zeros = [UInt8](repeating: 0, count: 1 << 20)
        var output = [UInt8](repeating: 0, count: 1 << 16)
        var out = [UInt8]()
        var left = count
        repeat {
            let block = min(left, zeros.count)
            left -= block
            zeros.withUnsafeMutableBufferPointer { input in
                stream.pointee.next_in = input.baseAddress
                stream.pointee.avail_in = uInt(block)
                repeat {
                    let produced = output.withUnsafeMutableBufferPointer { buffer -> Int in
                        stream.pointee.next_out = buffer.baseAddress
                        stream.pointee.avail_out = uInt(buffer.count)
                        _ = deflate(stream, left == 0 ? Z_FINISH : Z_NO_FLUSH)
                        return buffer.count - Int(stream.pointee.avail_out)
                    }
                    out += output[0..<produced]
                } while stream.pointee.avail_out == 0
            }
        } while left > 0
        return out
    }

    // MARK: Decoding

    /// Decodes a PNG file of any kind: gray, RGB, palette, gray+alpha or RGBA, at every bit depth PNG allows
    /// (1, 2, 4, 8, 16), interlaced (Adam7) or not, with tRNS transparency. `name` is used in error messages.
    ///
    /// The result is 8-bit: 16-bit samples are rounded to the nearest 8-bit value, 1/2/4-bit gray is scaled
    /// to 0…255, a palette is looked up. With the `.stored` layout alpha is kept — from an alpha channel or tRNS,
    /// a palette image with tRNS becoming RGBA and a gray or RGB one gray+alpha or RGBA — and left to the reader
    /// to composite; the `.gray` layout composites it over white as each row is read.
    ///
    /// The image data is inflated a row at a time into two rows of raw samples (the row and the one above it,
    /// which the filters read), so the working memory (``ImageLimits``) is the decoded pixels and those two rows,
    /// checked on the header before anything is allocated.
    public static func decode(_ bytes: [UInt8], name: String, layout: PixelLayout = .stored) throws -> Image {
        let file = try Chunks(bytes, name: name)
        let (width, height) = (file.width, file.height)
        // PNG allows at most 2^31 − 1 per side; the product is checked for overflow and bounded.
        guard width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw ImageError(name, "\(width)×\(height) is not a valid PNG size (at most 2147483647 per side)")
        }
        _ = try ImageLimits.checkedSize(width: width, height: height, channels: 1, name: name)
        let format = try SampleFormat(colorType: file.colorType, depth: file.depth, name: name)
        guard file.interlace <= 1 else { throw ImageError(name, "unknown interlace method \(file.interlace)") }
        let passes = Adam7.passes(width: width, height: height, interlaced: file.interlace == 1)
        // Bounded above (at most 50 M pixels × 8 bytes + a filter byte per row): no overflow here.
        let expected = passes.reduce(0) { $0 + $1.dataSize(format) }
        // Deflate expands at most ~1032:1, so a file too small for its claimed size is refused before
        // the memory for that size is taken.
        let (inflatable, overflow) = file.compressedSize.multipliedReportingOverflow(by: 1100)
        guard overflow || expected <= inflatable + 1024 else {
            throw ImageError(name, "image data (\(file.compressedSize) bytes) is too small for \(width)×\(height) pixels")
        }
        let palette = format.colorType == 3 ? try Palette(file.palette, transparency: file.transparency, name: name) : nil
        let key = format.colorType == 3 ? nil : file.transparency.flatMap { format.transparentSample($0) }
        let stored = palette?.channels ?? format.channels + (key == nil ? 0 : 1)
        let channels = layout == .gray ? 1 : stored
        // Scratch: the row being read and the one above it, each with its filter byte.
        let rowBytes = format.rowBytes(width: width)
        let size = try ImageLimits.workingMemory(width: width, height: height, channels: channels, scratch: 2 * (rowBytes + 1), name: name)
        var pixels = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeBufferPointer { input in
            var inflater = try Inflater(input, chunks: file.imageData, name: name)
            defer { inflater.end() }
            try pixels.withUnsafeMutableBufferPointer { out in
                try readRows(from: &inflater, format: format, passes: passes, palette: palette, transparentKey: key,
                             width: width, channels: channels, into: out, name: name)
            }
            try inflater.finish()
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    static func readBigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    /// A PNG file's chunks, CRCs checked: the header's fields, PLTE, tRNS, and where the IDAT chunks' data lies
    /// in the file (read from there as it is inflated, not copied).
    struct Chunks {
        var width = 0, height = 0
        var depth: UInt8 = 0, colorType: UInt8 = 0, interlace: UInt8 = 0
        var palette: [UInt8] = []
        var transparency: [UInt8]?
        var imageData: [Range<Int>] = []
        var compressedSize: Int { imageData.reduce(0) { $0 + $1.count } }

        init(_ bytes: [UInt8], name: String) throws {
            guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
                throw ImageError(name, "not a PNG file (bad signature)")
            }
            var offset = 8
            var sawHeader = false, sawEnd = false
            while offset < bytes.count, !sawEnd {
                guard offset + 12 <= bytes.count else { throw ImageError(name, "truncated chunk at byte \(offset)") }
                let length = Int(readBigEndian(bytes, offset))
                guard length <= bytes.count - offset - 12 else {
                    throw ImageError(name, "chunk at byte \(offset) claims \(length) bytes, past the end of the file")
                }
                let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
                let body = (offset + 8)..<(offset + 8 + length)
                let storedCRC = readBigEndian(bytes, body.upperBound)
                let computed = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress! + offset + 4, uInt(length + 4)) }
                guard storedCRC == UInt32(computed) else {
                    throw ImageError(name, "CRC mismatch in \(type) chunk (the file is corrupt)")
                }
                switch type {
                case "IHDR":
                    guard length == 13 else { throw ImageError(name, "IHDR chunk has \(length) bytes, expected 13") }
                    (width, height) = (Int(readBigEndian(bytes, body.lowerBound)), Int(readBigEndian(bytes, body.lowerBound + 4)))
                    (depth, colorType, interlace) = (bytes[body.lowerBound + 8], bytes[body.lowerBound + 9], bytes[body.lowerBound + 12])
                    sawHeader = true
                case "PLTE": palette = Array(bytes[body])
                case "tRNS": transparency = Array(bytes[body])
                case "IDAT": imageData.append(body)
                case "IEND": sawEnd = true
                default: break  // other ancillary chunks are ignored
                }
                offset += 12 + length
            }
            guard sawHeader else { throw ImageError(name, "no IHDR chunk") }
            guard sawEnd else { throw ImageError(name, "truncated: no IEND chunk") }
        }
    }

    /// The zlib stream of the IDAT chunks, inflated on demand straight from the file's bytes.
    struct Inflater {
        /// On the heap: zlib keeps its address, so it must not move.
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        private let input: UnsafeBufferPointer<UInt8>
        private let chunks: [Range<Int>]
        private var nextChunk = 0
        private var ended = false
        private let name: String

        init(_ input: UnsafeBufferPointer<UInt8>, chunks: [Range<Int>], name: String) throws {
            (self.input, self.chunks, self.name) = (input, chunks, name)
            stream.initialize(to: z_stream())
            guard inflateInit_(stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                throw ImageError(name, "zlib could not start inflating")
            }
        }

        func end() {
            inflateEnd(stream)
            stream.deallocate()
        }

        /// Fills `buffer` with the next `buffer.count` bytes of image data.
        mutating func read(into buffer: UnsafeMutableBufferPointer<UInt8>) throws {
            stream.pointee.next_out = buffer.baseAddress
            stream.pointee.avail_out = uInt(buffer.count)
            while stream.pointee.avail_out > 0 {
                if try step(), stream.pointee.avail_out > 0 { throw ImageError(name, "image data is truncated or smaller than the header says") }
            }
        }

        /// Checks that the stream ends where the image does.
        mutating func finish() throws {
            var extra: UInt8 = 0
            try withUnsafeMutablePointer(to: &extra) { byte in
                stream.pointee.next_out = byte
                stream.pointee.avail_out = 1
                while stream.pointee.avail_out > 0 {
                    if try step(), stream.pointee.avail_out > 0 { return }
                }
                throw ImageError(name, "image data is larger than the header says")
            }
        }

        /// Inflates what it can into the output set; true when the stream has ended.
        private mutating func step() throws -> Bool {
            if ended { return true }
            if stream.pointee.avail_in == 0 {
                guard nextChunk < chunks.count else { throw ImageError(name, "image data is truncated or smaller than the header says") }
                let chunk = chunks[nextChunk]
                nextChunk += 1
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + chunk.lowerBound)
                stream.pointee.avail_in = uInt(chunk.count)
                return false
            }
            let status = inflate(stream, Z_NO_FLUSH)
            guard status == Z_OK || status == Z_STREAM_END else {
                throw ImageError(name, "image data is corrupt (zlib status \(status))")
            }
            ended = status == Z_STREAM_END
            return ended
        }
    }
}

/// An image file that cannot be read, naming the file and what was wrong.
public struct ImageError: Error, CustomStringConvertible, Equatable {
    public let subject: String
    public let message: String
    public init(_ subject: String, _ message: String) { self.subject = subject; self.message = message }
    public var description: String { "\(subject): \(message)" }
}
