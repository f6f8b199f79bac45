import Testing
import FashionCore
import FashionImaging

/// JPEG through libjpeg-turbo (where `libturbojpeg0` is installed), turned upright by EXIF.
@Suite(.enabled(if: TurboJPEG.shared != nil, "libturbojpeg0 is not installed"))
struct JPEGTests {
    /// JPEG's loss on the fixtures' flat 8×8 blocks at quality 95 (Pillow's check allows 8).
    static let tolerance = 10

    /// One asymmetric picture stored eight ways, each tagged with the orientation that undoes it: all
    /// come out as the same upright picture.
    @Test(arguments: 1...8)
    func everyOrientationDecodesUpright(orientation: Int) throws {
        let name = "orientation-\(orientation).jpg"
        #expect(EXIF.orientation(inJPEG: try Fixtures.bytes(name))?.rawValue == orientation)
        let image = try Fixtures.decoded(name)
        let upright = try Fixtures.decoded("ref-photo.png")
        let difference = largestDifference(image, upright)
        #expect(difference != nil, "\(name): \(image.width)×\(image.height)×\(image.channels), upright is 32×24×3")
        #expect((difference ?? .max) <= Self.tolerance, "\(name) differs from the upright picture by \(difference ?? -1)")
    }

    @Test(arguments: [("progressive.jpg", "ref-photo.png"), ("gray.jpg", "ref-photo-gray.png"),
                      ("gray-progressive-orientation-6.jpg", "ref-photo-gray.png"), ("exif-big-endian-8.jpg", "ref-photo.png")])
    func progressiveGrayAndBigEndianEXIF(_ pair: (String, String)) throws {
        let image = try Fixtures.decoded(pair.0)
        let difference = largestDifference(image, try Fixtures.decoded(pair.1))
        #expect(difference.map { $0 <= Self.tolerance } == true, "\(pair.0): \(difference.map(String.init) ?? "size or channels differ")")
    }

    /// A CMYK JPEG (Adobe's convention, every sample inverted, as print software and Pillow save it) is converted,
    /// not refused as "not a valid JPEG": its colours, and its gray, are the RGB picture's.
    @Test func cmykJPEGsAreConverted() throws {
        let rgb = try JPEG.decode(Fixtures.bytes("cmyk.jpg"), name: "cmyk.jpg")
        let reference = try PNG.decode(Fixtures.bytes("ref-photo.png"), name: "ref-photo.png")
        let colours = largestDifference(rgb, reference)
        #expect(colours.map { $0 <= Self.tolerance } == true, "RGB: \(colours.map(String.init) ?? "size or channels differ")")
        let gray = largestDifference(try Fixtures.decoded("cmyk.jpg"), try Fixtures.decoded("ref-photo.png"))
        #expect(gray.map { $0 <= Self.tolerance } == true, "gray: \(gray.map(String.init) ?? "size or channels differ")")
    }

    /// An EXIF segment whose IFD0 offset lies past its end is ignored: the picture as stored, no error.
    @Test func malformedEXIFIsIgnored() throws {
        let bytes = try Fixtures.bytes("exif-malformed.jpg")
        #expect(EXIF.orientation(inJPEG: bytes) == nil)
        let difference = largestDifference(try Fixtures.decoded("exif-malformed.jpg"), try Fixtures.decoded("ref-photo.png"))
        #expect(difference.map { $0 <= Self.tolerance } == true)
    }

    /// Every truncation of a baseline and a progressive JPEG, and corrupted copies, give an error that
    /// names the file; none crashes.
    @Test(arguments: ["orientation-6.jpg", "progressive.jpg"])
    func truncatedAndCorruptJPEGsAreRefused(name: String) throws {
        let bytes = try Fixtures.bytes(name)
        for length in stride(from: 0, to: bytes.count - 2, by: 5) {
            let error = #expect(throws: ImageError.self) { try FashionInput.decode(Array(bytes.prefix(length)), name: "cut.jpg") }
            #expect(error?.subject == "cut.jpg")
        }
        // Random bytes overwritten: an error or a picture, but never a crash or a wrong size.
        var generator = SeededGenerator(seed: 18)
        for _ in 0..<300 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                mutated[Int.random(in: 2..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let image = try? FashionInput.decode(mutated, name: "m.jpg") {
                #expect(image.pixels.count == image.width * image.height * image.channels)
            }
        }
    }
}

/// EXIF parsing on hand-made segments, and the message when libjpeg-turbo is missing: no library needed.
@Suite struct EXIFTests {
    /// A JPEG start (SOI), an APP1 segment of `body`, then an end marker.
    func jpeg(app1 body: [UInt8]) -> [UInt8] {
        let length = body.count + 2
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xff)] + body + [0xFF, 0xD9]
    }

    func exif(littleEndian: Bool, ifdOffset: UInt32 = 8, entries: [(tag: UInt16, type: UInt16, count: UInt32, value: UInt16)]) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { littleEndian ? [UInt8(v & 0xff), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 0xff)] }
        func u32(_ v: UInt32) -> [UInt8] { littleEndian ? u16(UInt16(v & 0xffff)) + u16(UInt16(v >> 16)) : u16(UInt16(v >> 16)) + u16(UInt16(v & 0xffff)) }
        var tiff = (littleEndian ? Array("II".utf8) : Array("MM".utf8)) + u16(42) + u32(ifdOffset) + u16(UInt16(entries.count))
        for entry in entries { tiff += u16(entry.tag) + u16(entry.type) + u32(entry.count) + u16(entry.value) + [0, 0] }
        return Array("Exif\0\0".utf8) + tiff + u32(0)
    }

    @Test func readsTheOrientationInBothByteOrders() {
        for littleEndian in [true, false] {
            for value in 1...8 {
                let bytes = jpeg(app1: exif(littleEndian: littleEndian, entries: [(0x010F, 2, 4, 0), (0x0112, 3, 1, UInt16(value))]))
                #expect(EXIF.orientation(inJPEG: bytes)?.rawValue == value)
            }
        }
    }

    @Test func malformedSegmentsGiveNoOrientation() {
        let cases: [[UInt8]] = [
            jpeg(app1: exif(littleEndian: true, entries: [(0x0112, 3, 1, 9)])),              // not 1…8
            jpeg(app1: exif(littleEndian: true, entries: [(0x0112, 4, 1, 6)])),              // LONG, not SHORT
            jpeg(app1: exif(littleEndian: true, entries: [(0x0112, 3, 2, 6)])),              // two values
            jpeg(app1: exif(littleEndian: true, ifdOffset: 0xFFFF_FFF0, entries: [(0x0112, 3, 1, 6)])),  // IFD0 far away
            jpeg(app1: exif(littleEndian: true, ifdOffset: 10, entries: [(0x0112, 3, 1, 6)])),  // IFD0 misplaced
            jpeg(app1: Array("Exif\0\0XX".utf8) + [42, 0, 8, 0, 0, 0]),                     // bad byte order
            jpeg(app1: Array("Exif\0\0II".utf8)),                                           // cut short
            Array(jpeg(app1: exif(littleEndian: true, entries: [(0x0112, 3, 1, 6)])).prefix(20)),  // segment past the end
            [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01],                                           // length below 2
            [0xFF, 0xD8],
            [],
        ]
        for bytes in cases { #expect(EXIF.orientation(inJPEG: bytes) == nil, "\(bytes.prefix(40))") }
        // An entry count that runs past the segment: checked, not read out of bounds.
        var many = exif(littleEndian: true, entries: [(0x0100, 3, 1, 1)])
        many[6 + 8] = 0xFF; many[6 + 9] = 0xFF
        #expect(EXIF.orientation(inJPEG: jpeg(app1: many)) == nil)
    }

    @Test func eachOrientationMovesPixelsAsAViewerDoes() {
        // 3×2, stored:  1 2 3
        //               4 5 6
        let stored = Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6])
        let expected: [Orientation: (Int, [UInt8])] = [
            .upright: (3, [1, 2, 3, 4, 5, 6]),
            .flipHorizontal: (3, [3, 2, 1, 6, 5, 4]),
            .rotate180: (3, [6, 5, 4, 3, 2, 1]),
            .flipVertical: (3, [4, 5, 6, 1, 2, 3]),
            .transpose: (2, [1, 4, 2, 5, 3, 6]),
            .rotate90Clockwise: (2, [4, 1, 5, 2, 6, 3]),
            .transverse: (2, [6, 3, 5, 2, 4, 1]),
            .rotate90CounterClockwise: (2, [3, 6, 2, 5, 1, 4]),
        ]
        for (orientation, (width, pixels)) in expected {
            let upright = stored.oriented(orientation)
            #expect(upright.width == width && upright.height == 6 / width && upright.pixels == pixels, "\(orientation)")
        }
    }

    @Test func withoutLibjpegTurboTheErrorSaysWhatToInstall() throws {
        let error = #expect(throws: ImageError.self) { try JPEG.decode(try Fixtures.bytes("gray.jpg"), name: "me.jpg", library: nil) }
        #expect(error?.subject == "me.jpg")
        #expect(error?.message.contains("libturbojpeg0") == true && error?.message.contains("convert it to PNG") == true, "\(error?.message ?? "")")
        #expect(TurboJPEG.load(candidates: ["/nonexistent/libturbojpeg.so.0"]) == nil)
    }
}

/// Formats FashionLab does not read are named, with what to convert them to.
@Suite struct ImageFormatTests {
    @Test(arguments: [
        ("picture.gif", "GIF"), ("picture.bmp", "BMP"),
    ])
    func fixturesOfOtherFormatsAreNamed(_ file: (String, String)) throws {
        let error = #expect(throws: ImageError.self) { try Fixtures.decoded(file.0) }
        #expect(error?.message == "a \(file.1) picture, which FashionLab does not read: convert it to PNG or JPEG")
    }

    @Test func headersOfOtherFormatsAreNamed() {
        let headers: [(String, [UInt8])] = [
            ("WebP", Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WEBPVP8 ".utf8)),
            ("TIFF", [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]),
            ("TIFF", [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8]),
            ("HEIC", [0, 0, 0, 0x18] + Array("ftypheic".utf8) + [0, 0, 0, 0]),
            ("HEIC", [0, 0, 0, 0x18] + Array("ftypmif1".utf8) + [0, 0, 0, 0]),
            ("AVIF", [0, 0, 0, 0x1C] + Array("ftypavif".utf8) + [0, 0, 0, 0]),
        ]
        for (format, bytes) in headers {
            #expect(ImageFormat.detect(bytes) == .unsupported(format))
            let error = #expect(throws: ImageError.self) { try FashionInput.decode(bytes, name: "x") }
            #expect(error?.message.contains("a \(format) picture") == true && error?.message.contains("convert it to PNG or JPEG") == true)
        }
        let error = #expect(throws: ImageError.self) { try FashionInput.decode(Array("hello".utf8), name: "notes.txt") }
        #expect(error == ImageError("notes.txt", "not a picture FashionLab can read (PNG, JPEG or PGM): convert it to PNG or JPEG"))
        #expect(ImageFormat.detect([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg && ImageFormat.detect(Array("P5".utf8)) == .pgm)
    }
}
