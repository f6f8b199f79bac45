import Foundation
import Testing
import FashionTestSupport

/// The picture files of the imaging tests (scripts/make_photo_fixtures.py).
private let imagingFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../FashionImagingTests/Fixtures").standardizedFileURL.path

/// `predict` on a folder: every picture in name order, the unreadable ones reported and skipped (exit 1),
/// and a contact sheet.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary)
                    && dlopen("libturbojpeg.so.0", RTLD_NOW) != nil,
                "needs the dataset, the binary and libturbojpeg0"))
struct PredictFolderTests {
    @Test func aFolderIsClassifiedInNameOrderWithAContactSheet() throws {
        let root = TestFiles.newDirectory("predict-folder")
        let train = try runFashionlab(["train", "--subset", "500", "--hidden", "16", "--epochs", "1", "--out", root + "/run", "--quiet"])
        #expect(train.status == 0, "\(train.error)")
        let photos = root + "/photos"
        try FileManager.default.createDirectory(atPath: photos, withIntermediateDirectories: true)
        let copies = ["orientation-6.jpg": "b-rotated.jpg", "progressive.jpg": "c-progressive.JPEG", "rgb16-interlaced.png": "a-deep.png",
                      "picture.gif": "d-animated.gif"]
        for (fixture, name) in copies {
            try FileManager.default.copyItem(atPath: imagingFixtures + "/" + fixture, toPath: photos + "/" + name)
        }
        _ = FileManager.default.createFile(atPath: photos + "/notes.txt", contents: Data("not a picture".utf8))
        _ = FileManager.default.createFile(atPath: photos + "/e-cut.jpg", contents: Data(FileManager.default.contents(atPath: imagingFixtures + "/gray.jpg")!.prefix(200)))
        // An old sheet of the same name is replaced whole.
        _ = FileManager.default.createFile(atPath: root + "/sheet.png", contents: Data("old".utf8))

        let result = try runFashionlab(["predict", root + "/run", photos, "--sheet", root + "/sheet.png"])
        #expect(!result.crashed && result.status == 1, "\(result.error)")
        let classified = result.output.split(separator: "\n").map { String($0.prefix { $0 != ":" }) }
        #expect(classified == ["a-deep.png", "b-rotated.jpg", "c-progressive.JPEG"].map { photos + "/" + $0 }, "\(result.output)")
        #expect(result.error.contains(photos + "/d-animated.gif: a GIF picture, which FashionLab does not read: convert it to PNG or JPEG"), "\(result.error)")
        #expect(result.error.contains(photos + "/e-cut.jpg: not a valid JPEG"), "\(result.error)")
        #expect(result.error.contains("left out 1 file(s) that are not pictures by their name: notes.txt"), "\(result.error)")
        let sheet = try #require(FileManager.default.contents(atPath: root + "/sheet.png"))
        #expect(sheet.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // IHDR: 3 pictures in one row of 4 cells (2 + 4 × (172 + 2) pixels wide), one row high.
        let width = sheet[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = sheet[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 2 + 3 * (172 + 2) && height == 2 + (84 + 13 + 2), "\(width)×\(height)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.contains(".tmp-") }.isEmpty)

        // Only readable pictures: exit 0, and the sheet's default place is the current directory.
        try FileManager.default.removeItem(atPath: photos + "/d-animated.gif")
        try FileManager.default.removeItem(atPath: photos + "/e-cut.jpg")
        let clean = try runFashionlab(["predict", root + "/run", photos, "--json"], directory: root)
        #expect(clean.status == 0, "\(clean.error)")
        #expect(clean.output.split(separator: "\n").count == 3 && clean.output.contains("\"top\""))
        #expect(FileManager.default.fileExists(atPath: root + "/predictions.png"))
        // An empty folder is an error that names it.
        let empty = TestFiles.newDirectory("empty")
        let none = try runFashionlab(["predict", root + "/run", empty])
        #expect(none.status == 1 && none.error.contains(empty + ": no pictures"), "\(none.error)")
    }
}
