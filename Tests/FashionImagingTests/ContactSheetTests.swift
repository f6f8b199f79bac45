import Foundation
import Testing
import FashionImaging
import FashionTestSupport

@Suite struct ContactSheetTests {
    /// Each entry shows its thumbnail and, beside it, the 28×28 input enlarged 3×, with its label below.
    @Test func entriesShowThumbnailInputAndLabel() throws {
        var input = Image(width: 28, height: 28, gray: 0)
        for y in 5..<20 { for x in 10..<14 { input.pixels[y * 28 + x] = 200 } }
        // A wide dark picture with a transparent half: gray once over white.
        var pixels = [UInt8]()
        for _ in 0..<(60 * 200) { pixels += [10, 10, 10, 255] }
        for i in stride(from: 0, to: pixels.count, by: 8) { pixels[i + 3] = 0 }
        let picture = Image(width: 200, height: 60, channels: 4, pixels: pixels)
        let entries = (0..<5).map { ContactSheet.Entry(picture: picture, input: input, label: "\($0 + 1) Sneaker 97%") }
        let sheet = ContactSheet.render(entries)
        let side = ContactSheet.side, cellWidth = 2 * side + 4, gap = 2, band = 7 + 6
        #expect(sheet.channels == 1)
        #expect(sheet.width == gap + ContactSheet.columns * (cellWidth + gap))
        #expect(sheet.height == gap + 2 * (side + band + gap), "5 pictures, 4 to a row: two rows")
        // The thumbnail keeps the picture's shape: 84×25, centred vertically, half-transparent columns averaged.
        let thumbnail = entries[0].thumbnail
        #expect(thumbnail.width == side && thumbnail.height == side)
        #expect(thumbnail.pixels[0] == 255 && thumbnail.pixels[(side / 2) * side + side / 2] < 200)
        // The input, enlarged 3×, in the right half of the second cell.
        let (x0, y0) = (gap + cellWidth + gap + side + 4, gap)
        for y in 0..<(28 * 3) {
            for x in 0..<(28 * 3) where sheet.pixels[(y0 + y) * sheet.width + x0 + x] != input.pixels[(y / 3) * 28 + x / 3] {
                Issue.record("input pixel (\(x), \(y)) of the second cell differs"); return
            }
        }
        // The label band holds ink.
        let bandRows = (y0 + side + 3)..<(y0 + side + 10)
        #expect(bandRows.contains { y in (gap..<(gap + cellWidth)).contains { sheet.pixels[y * sheet.width + $0] == 0 } })
    }

    @Test func thumbnailsOfTallAndTinyPicturesFitTheSquare() {
        let tall = ContactSheet.thumbnail(Image(width: 300, height: 3000, gray: 0), side: 84)  // 8×84, centred
        #expect(tall.width == 84 && tall.height == 84)
        #expect(tall.pixels[84 * 40 + 42] == 0 && tall.pixels[84 * 40 + 0] == 255)
        let tiny = ContactSheet.thumbnail(Image(width: 1, height: 1, gray: 7), side: 84)
        #expect(tiny.pixels.allSatisfy { $0 == 7 })
    }
}

@Suite struct PictureFolderTests {
    @Test func picturesAreTakenByExtensionSortedByName() throws {
        let folder = TestFiles.newDirectory("pictures")
        for name in ["b.JPG", "a.png", "c.heic", "notes.txt", ".hidden.png", "z.pgm"] {
            _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data([1]))
        }
        try FileManager.default.createDirectory(atPath: folder + "/sub.png", withIntermediateDirectories: true)
        let listed = try PictureFolder(folder)
        #expect(listed.pictures == ["a.png", "b.JPG", "c.heic", "z.pgm"].map { folder + "/" + $0 })
        #expect(listed.others == ["notes.txt"])
        #expect(PictureFolder.isFolder(folder) && !PictureFolder.isFolder(folder + "/a.png"))
        #expect(throws: ImageError.self) { try PictureFolder(folder + "/missing") }
    }
}
