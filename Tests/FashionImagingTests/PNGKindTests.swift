import Testing
import FashionImaging

/// Every kind of PNG decodes to the same 8-bit pixels as the plain 8-bit file of the same picture
/// (Fixtures/, written byte by byte by scripts/make_photo_fixtures.py and checked there with Pillow).
@Suite struct PNGKindTests {
    static let pairs: [(file: String, reference: String)] = [
        ("gray16.png", "ref-gray.png"),
        ("gray16-interlaced.png", "ref-gray.png"),
        ("gray8-interlaced.png", "ref-gray.png"),
        ("gray4.png", "ref-gray-4levels.png"),
        ("gray4-interlaced.png", "ref-gray-4levels.png"),
        ("gray2.png", "ref-gray-4levels.png"),
        ("gray1.png", "ref-gray-bilevel.png"),
        ("gray1-interlaced.png", "ref-gray-bilevel.png"),
        ("graya16.png", "ref-graya.png"),
        ("graya8-interlaced.png", "ref-graya.png"),
        ("rgb16.png", "ref-rgb.png"),
        ("rgb8-interlaced.png", "ref-rgb.png"),
        ("rgb16-interlaced.png", "ref-rgb.png"),
        ("rgba16.png", "ref-rgba.png"),
        ("rgba8-interlaced.png", "ref-rgba.png"),
        ("palette8.png", "ref-palette.png"),
        ("palette4.png", "ref-palette.png"),
        ("palette2.png", "ref-palette.png"),
        ("palette8-trns.png", "ref-palette-trns.png"),
        ("palette2-trns-interlaced.png", "ref-palette-trns.png"),
        ("gray8-trns.png", "ref-gray-trns.png"),
        ("rgb8-trns.png", "ref-rgb-trns.png"),
        ("tiny-interlaced.png", "ref-tiny.png"),
    ]

    @Test(arguments: pairs)
    func decodesToTheReferencePixels(_ pair: (file: String, reference: String)) throws {
        let image = try PNG.decode(Fixtures.bytes(pair.file), name: pair.file)
        let reference = try PNG.decode(Fixtures.bytes(pair.reference), name: pair.reference)
        #expect(image.width == reference.width && image.height == reference.height)
        #expect(image.channels == reference.channels, "\(pair.file): \(image.channels) channels, the reference \(reference.channels)")
        // Exactly: 16-bit samples round to the nearest 8-bit value, lower depths scale exactly.
        #expect(image == reference, "\(pair.file) differs from \(pair.reference) by up to \(largestDifference(image, reference).map(String.init) ?? "?")")
    }

    /// What a person sees: transparent pixels become white in the gray image that is classified.
    @Test func transparencyIsCompositedOverWhite() throws {
        let image = try PNG.decode(Fixtures.bytes("palette8-trns.png"), name: "p.png")
        // Palette entry 0 is fully transparent: every pixel of it is white once gray.
        let gray = image.grayscale()
        for i in 0..<(image.width * image.height) where image.pixels[4 * i + 3] == 0 {
            #expect(gray.pixels[i] == 255)
        }
    }

    @Test func invalidDepthsAndPaletteIndicesAreRefused() throws {
        // Colour type 2 (RGB) at 4 bits does not exist.
        let rgb4 = handMadePNG(width: 2, height: 2, colorType: 2, depth: 4)
        let error = #expect(throws: ImageError.self) { try PNG.decode(rgb4, name: "x.png") }
        #expect(error?.message.contains("bit depth 4 is not valid for colour type 2") == true, "\(error?.message ?? "")")
        // A 1-bit palette image whose pixels use index 1, with a palette of one colour.
        var bytes = try Fixtures.bytes("palette2.png")
        bytes = replacingChunk("PLTE", in: bytes, with: [1, 2, 3])
        let paletteError = #expect(throws: ImageError.self) { try PNG.decode(bytes, name: "p.png") }
        #expect(paletteError?.message.contains("out of range") == true, "\(paletteError?.message ?? "")")
    }

    /// Every truncation of an interlaced 16-bit file is refused with an error, never a crash.
    @Test func truncatedFilesAreRefused() throws {
        let bytes = try Fixtures.bytes("rgb16-interlaced.png")
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: ImageError.self) { try PNG.decode(Array(bytes.prefix(length)), name: "t.png") }
        }
    }
}

/// `png` with the data of its chunk `type` replaced (and its CRC recomputed).
func replacingChunk(_ type: String, in png: [UInt8], with data: [UInt8]) -> [UInt8] {
    var offset = 8
    while offset + 8 <= png.count {
        let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
        if String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self) == type {
            let body = Array(type.utf8) + data
            let crc = PNG.crc(body)
            let chunk = [UInt8(data.count >> 24), UInt8((data.count >> 16) & 0xff), UInt8((data.count >> 8) & 0xff), UInt8(data.count & 0xff)]
                + body + [UInt8(crc >> 24), UInt8((crc >> 16) & 0xff), UInt8((crc >> 8) & 0xff), UInt8(crc & 0xff)]
            var out = png
            out.replaceSubrange(offset..<(offset + 12 + length), with: chunk)
            return out
        }
        offset += 12 + length
    }
    return png
}
