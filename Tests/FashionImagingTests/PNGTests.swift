import Foundation
import Testing
import FashionCore
import FashionData
import FashionImaging
import FashionTestSupport

@Suite struct PNGTests {
    func pattern(width: Int, height: Int, channels: Int) -> Image {
        Image(width: width, height: height, channels: channels,
              pixels: (0..<width * height * channels).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) })
    }

    @Test(arguments: [1, 2, 3, 4])
    func roundTrip(channels: Int) throws {
        let image = pattern(width: 13, height: 7, channels: channels)
        let decoded = try PNG.decode(PNG.encode(image), name: "x.png")
        #expect(decoded == image)
    }

    /// Encodes rows with every filter type (None, Sub, Up, Average, Paeth), as other encoders do.
    func encodeWithAllFilters(_ image: Image) -> [UInt8] {
        let stride = image.width * image.channels, bpp = image.channels
        var data = [UInt8]()
        for y in 0..<image.height {
            let filter = UInt8(y % 5)
            data.append(filter)
            for x in 0..<stride {
                let value = Int(image.pixels[y * stride + x])
                let a = x >= bpp ? Int(image.pixels[y * stride + x - bpp]) : 0
                let b = y > 0 ? Int(image.pixels[(y - 1) * stride + x]) : 0
                let c = (x >= bpp && y > 0) ? Int(image.pixels[(y - 1) * stride + x - bpp]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                default:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                }
                data.append(UInt8(truncatingIfNeeded: value - predictor))
            }
        }
        // Reuse the encoder's container: swap its IDAT for ours.
        var png = PNG.encode(image)
        let idatStart = 8 + 25
        let idatLength = Int(png[idatStart]) << 24 | Int(png[idatStart + 1]) << 16 | Int(png[idatStart + 2]) << 8 | Int(png[idatStart + 3])
        let compressed = zlibWrap(data)
        var chunk = [UInt8]()
        let length = UInt32(compressed.count)
        chunk += [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
        let body = Array("IDAT".utf8) + compressed
        chunk += body
        let crc = PNG.crc(body)
        chunk += [UInt8(crc >> 24), UInt8((crc >> 16) & 0xff), UInt8((crc >> 8) & 0xff), UInt8(crc & 0xff)]
        png.replaceSubrange(idatStart..<(idatStart + 12 + idatLength), with: chunk)
        return png
    }

    /// A zlib stream of stored (uncompressed) blocks.
    func zlibWrap(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        let adler = b << 16 | a
        return out + [UInt8(adler >> 24), UInt8((adler >> 16) & 0xff), UInt8((adler >> 8) & 0xff), UInt8(adler & 0xff)]
    }

    @Test(arguments: [1, 3, 4])
    func decodesEveryFilterType(channels: Int) throws {
        let image = pattern(width: 9, height: 10, channels: channels)
        #expect(try PNG.decode(encodeWithAllFilters(image), name: "f.png") == image)
    }

    @Test func rejectsBrokenFilesWithTheFileName() {
        let good = PNG.encode(pattern(width: 4, height: 4, channels: 1))
        var badCRC = good
        badCRC[30] ^= 1
        #expect(throws: ImageError("a.png", "CRC mismatch in IHDR chunk (the file is corrupt)")) { try PNG.decode(badCRC, name: "a.png") }
        #expect(throws: ImageError("a.png", "not a PNG file (bad signature)")) { try PNG.decode([1, 2, 3], name: "a.png") }
        #expect(throws: ImageError.self) { try PNG.decode(Array(good.prefix(good.count - 12)), name: "a.png") }
        // Interlace method 2 does not exist (0 is none, 1 Adam7).
        var interlaced = good
        interlaced[28] = 2
        let crc = PNG.crc(Array(interlaced[12..<29]))
        interlaced.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8((crc >> 16) & 0xff), UInt8((crc >> 8) & 0xff), UInt8(crc & 0xff)])
        #expect(throws: ImageError("a.png", "unknown interlace method 2")) { try PNG.decode(interlaced, name: "a.png") }
    }

    @Test func grayscaleConversionCompositesAlpha() {
        let rgba = Image(width: 2, height: 1, channels: 4, pixels: [255, 0, 0, 255, 0, 0, 0, 0])
        #expect(rgba.grayscale().pixels == [76, 255])
    }
}

@Suite(.enabled(if: FashionMNIST.files.allSatisfy { FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/" + $0.name) },
                "Fashion-MNIST is not in /usr/share/datasets/fashion-mnist"))
struct SampleGridTests {
    @Test func gridHoldsTheChosenImagesOneRowPerClass() throws {
        let data = try FashionMNISTLoader.load(directory: "/usr/share/datasets/fashion-mnist")
        var generator = SeededGenerator(seed: 3)
        let indices = data.train.randomSamples(perClass: 10, using: &generator)
        let png = PNG.encode(SampleGrid.render(data.train, indices: indices, scale: 3))
        let decoded = try PNG.decode(png, name: "grid.png")
        let grid = ImageGrid(tileWidth: 28, tileHeight: 28, scale: 3)
        #expect(decoded.width == 2 + 10 * (84 + 2) && decoded.height == decoded.width && decoded.channels == 1)
        for (row, classIndices) in indices.enumerated() {
            for (column, index) in classIndices.enumerated() {
                #expect(Int(data.train.labels[index]) == row)
                let (x0, y0) = grid.origin(row: row, column: column)
                let image = Array(data.train.image(index))
                for y in 0..<84 {
                    for x in 0..<84 where decoded.pixels[(y0 + y) * decoded.width + x0 + x] != image[(y / 3) * 28 + x / 3] {
                        Issue.record("pixel (\(x), \(y)) of cell (\(row), \(column)) differs")
                        return
                    }
                }
            }
        }
        // A standard tool accepts the file, where it is installed.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/pngcheck") {
            let path = TestFiles.newPath("grid", extension: "png")
            try AtomicFile.write(png, to: path)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/pngcheck")
            process.arguments = ["-q", path]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }
}

@Suite struct PGMAndInputTests {
    @Test func readsBinaryAndPlainPGM() throws {
        let binary = Array("P5\n# comment\n3 2\n255\n".utf8) + [0, 10, 20, 30, 40, 255]
        #expect(try PGM.decode(binary, name: "a.pgm").pixels == [0, 10, 20, 30, 40, 255])
        let plain = Array("P2 2 2 15\n0 15\n5 10\n".utf8)
        #expect(try PGM.decode(plain, name: "b.pgm").pixels == [0, 255, 85, 170])
        #expect(throws: ImageError.self) { try PGM.decode(Array("P5 3 2 255\n".utf8) + [1, 2], name: "c.pgm") }
        #expect(throws: ImageError.self) { try PGM.decode(Array("P2 1 1 10\n11\n".utf8), name: "d.pgm") }
        // Three bytes of a JPEG: read as a JPEG, and refused as one.
        let error = #expect(throws: ImageError.self) { try FashionInput.decode([0xFF, 0xD8, 0xFF], name: "photo.jpg") }
        #expect(error?.subject == "photo.jpg")
        #expect(error?.message.contains("JPEG") == true, "\(error?.message ?? "")")
    }

    /// A 28×28 image enlarged 10×, dark on a white page with a margin, in RGB (like a product photo),
    /// becomes the original image again.
    @Test func photoOfADatasetImageComesBackAsIt() throws {
        var original = [UInt8](repeating: 0, count: 784)
        for y in 4..<24 { for x in 8..<20 { original[y * 28 + x] = UInt8(120 + (x * 7 + y * 3) % 130) } }
        let side = 400, scale = 10, margin = 60
        var rgb = [UInt8](repeating: 255, count: side * side * 3)
        for y in 0..<280 { for x in 0..<280 {
            let value = 255 - original[(y / scale) * 28 + x / scale]
            for c in 0..<3 { rgb[((y + margin) * side + x + margin) * 3 + c] = value }
        } }
        let photo = try PNG.decode(PNG.encode(Image(width: side, height: side, channels: 3, pixels: rgb)), name: "photo.png")
        let prepared = FashionInput.prepare(photo)
        #expect(prepared.width == 28 && prepared.height == 28)
        // Cropped to the object and fitted: the object (12×20 in the original) fills 28 rows, centred.
        let rows = (0..<28).filter { y in (0..<28).contains { prepared.pixels[y * 28 + $0] > 40 } }
        let columns = (0..<28).filter { x in (0..<28).contains { prepared.pixels[$0 * 28 + x] > 40 } }
        #expect(rows.count >= 26)
        #expect(abs((columns.first! + columns.last!) - 27) <= 2, "centred horizontally: \(columns)")
        #expect(prepared.pixels[0] == 0 && prepared.pixels[27] == 0, "background is black")
    }
}
