import CZlib

/// The project's own PNG codec on zlib.
///
/// Writes 8-bit gray, gray+alpha, RGB and RGBA images. Reads every kind of PNG (``decode(_:name:)``): the
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

    // MARK: Decoding

    /// Decodes a PNG file of any kind: gray, RGB, palette, gray+alpha or RGBA, at every bit depth PNG allows
    /// (1, 2, 4, 8, 16), interlaced (Adam7) or not, with tRNS transparency. `name` is used in error messages.
    ///
    /// The result is 8-bit: 16-bit samples are rounded to the nearest 8-bit value, 1/2/4-bit gray is scaled
    /// to 0…255, a palette is looked up. Alpha is kept — from an alpha channel or tRNS, a palette image with
    /// tRNS becoming RGBA and a gray or RGB one gray+alpha or RGBA — and left to the reader to composite
    /// (``Image/grayscale(background:)`` puts it over white, as a person sees a transparent picture).
    public static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
            throw ImageError(name, "not a PNG file (bad signature)")
        }
        var offset = 8
        var header: (width: Int, height: Int, depth: UInt8, colorType: UInt8, interlace: UInt8)?
        var palette = [UInt8]()
        var transparency: [UInt8]?
        var compressed = [UInt8]()
        var sawEnd = false
        while offset < bytes.count, !sawEnd {
            guard offset + 12 <= bytes.count else { throw ImageError(name, "truncated chunk at byte \(offset)") }
            let length = Int(readBigEndian(bytes, offset))
            guard length <= bytes.count - offset - 12 else {
                throw ImageError(name, "chunk at byte \(offset) claims \(length) bytes, past the end of the file")
            }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let storedCRC = readBigEndian(bytes, offset + 8 + length)
            guard storedCRC == crc(Array(bytes[(offset + 4)..<(offset + 8 + length)])) else {
                throw ImageError(name, "CRC mismatch in \(type) chunk (the file is corrupt)")
            }
            switch type {
            case "IHDR":
                guard data.count == 13 else { throw ImageError(name, "IHDR chunk has \(data.count) bytes, expected 13") }
                header = (Int(readBigEndian(data, 0)), Int(readBigEndian(data, 4)), data[8], data[9], data[12])
            case "PLTE": palette = data
            case "tRNS": transparency = data
            case "IDAT": compressed += data
            case "IEND": sawEnd = true
            default: break  // other ancillary chunks are ignored
            }
            offset += 12 + length
        }
        guard let header else { throw ImageError(name, "no IHDR chunk") }
        guard sawEnd else { throw ImageError(name, "truncated: no IEND chunk") }
        // PNG allows at most 2^31 − 1 per side; the product is checked for overflow and bounded.
        guard header.width <= Int(Int32.max), header.height <= Int(Int32.max) else {
            throw ImageError(name, "\(header.width)×\(header.height) is not a valid PNG size (at most 2147483647 per side)")
        }
        _ = try ImageLimits.checkedSize(width: header.width, height: header.height, channels: 4, name: name)
        let format = try SampleFormat(colorType: header.colorType, depth: header.depth, name: name)
        guard header.interlace <= 1 else { throw ImageError(name, "unknown interlace method \(header.interlace)") }
        let passes = Adam7.passes(width: header.width, height: header.height, interlaced: header.interlace == 1)
        // Bounded above (at most 50 M pixels × 8 bytes + a filter byte per row): no overflow here.
        let expected = passes.reduce(0) { $0 + $1.dataSize(format) }
        // Deflate expands at most ~1032:1, so a file too small for its claimed size is refused before
        // the memory for that size is taken.
        let (inflatable, overflow) = compressed.count.multipliedReportingOverflow(by: 1100)
        guard overflow || expected <= inflatable + 1024 else {
            throw ImageError(name, "image data (\(compressed.count) bytes) is too small for \(header.width)×\(header.height) pixels")
        }
        let filtered = try zlibDecompress(compressed, expectedSize: expected, name: name)
        let key = format.colorType == 3 ? nil : transparency.flatMap { format.transparentSample($0) }
        let samples = try readSamples(filtered, format: format, passes: passes, transparentKey: key,
                                      width: header.width, height: header.height, name: name)
        if format.colorType == 3 {
            return try applyPalette(samples, palette: palette, transparency: transparency,
                                    width: header.width, height: header.height, name: name)
        }
        return Image(width: header.width, height: header.height, channels: format.channels + (key == nil ? 0 : 1), pixels: samples)
    }

    static func readBigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func zlibDecompress(_ input: [UInt8], expectedSize: Int, name: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: expectedSize)
        var size = uLongf(expectedSize)
        let status = out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { i in uncompress(o.baseAddress, &size, i.baseAddress, uLong(i.count)) }
        }
        guard status == Z_OK, Int(size) == expectedSize else {
            let reason = status == Z_OK ? "image data has \(size) bytes, expected \(expectedSize)"
                : status == Z_BUF_ERROR ? "image data is truncated or larger than the header says"
                : "image data is corrupt (zlib status \(status))"
            throw ImageError(name, reason)
        }
        return out
    }
}

/// An image file that cannot be read, naming the file and what was wrong.
public struct ImageError: Error, CustomStringConvertible, Equatable {
    public let subject: String
    public let message: String
    public init(_ subject: String, _ message: String) { self.subject = subject; self.message = message }
    public var description: String { "\(subject): \(message)" }
}
