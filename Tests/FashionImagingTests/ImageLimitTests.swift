import Foundation
import Testing
import FashionImaging
import FashionTestSupport

/// PNG files made by hand: a header that claims any size, a tiny IDAT, a valid CRC on every chunk.
func handMadePNG(width: UInt32, height: UInt32, colorType: UInt8 = 6, depth: UInt8 = 8) -> [UInt8] {
    func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)] }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typeAndData + bigEndian(PNG.crc(typeAndData))
    }
    let header = bigEndian(width) + bigEndian(height) + [depth, colorType, 0, 0, 0]
    // A zlib stream of a few zero bytes: far too little for the claimed size.
    let idat: [UInt8] = [0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", idat) + chunk("IEND", [])
}

@Suite struct ImageLimitTests {
    /// 0xFFFFFFFF × 0xFFFFFFFF overflows Int: before the fix the multiplication trapped.
    @Test(arguments: [(UInt32.max, UInt32.max), (0x8000_0000, 0x8000_0000), (100_000, 100_000), (0x7FFF_FFFF, 0x7FFF_FFFF), (50_001, 1000)])
    func hugeHeadersAreRefusedBeforeAllocating(_ size: (UInt32, UInt32)) throws {
        let start = Date()
        let error = #expect(throws: ImageError.self) { try PNG.decode(handMadePNG(width: size.0, height: size.1), name: "big.png") }
        #expect(error?.subject == "big.png")
        let message = error?.message ?? ""
        #expect(message.contains("\(size.0)×\(size.1)"), "\(message)")
        #expect(message.contains("50000000") || message.contains("not a valid PNG size"), "\(message)")
        #expect(Date().timeIntervalSince(start) < 1)
    }

    @Test func theLimitIsFiftyMegapixels() throws {
        #expect(ImageLimits.maxPixels == 50_000_000)
        #expect(PNG.maxPixels == 50_000_000 && PGM.maxPixels == 50_000_000)
        // Just under the limit, the header passes the size check and fails on the tiny image data instead.
        let error = #expect(throws: ImageError.self) { try PNG.decode(handMadePNG(width: 10_000, height: 5_000), name: "ok.png") }
        #expect(error?.message.contains("too small") == true, "\(error?.message ?? "")")
    }

    @Test func pgmHeadersAreBoundedToo() throws {
        let pgm = Array("P5\n2000000000 2000000000\n255\n".utf8) + [0, 0]
        let error = #expect(throws: ImageError.self) { try PGM.decode(pgm, name: "big.pgm") }
        #expect(error?.message.contains("larger than the 50000000") == true, "\(error?.message ?? "")")
    }
}
