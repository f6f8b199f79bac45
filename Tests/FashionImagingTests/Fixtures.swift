import Foundation
import FashionImaging

/// The picture files of Fixtures/, made by scripts/make_photo_fixtures.py.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
            throw ImageError(name, "fixture missing from \(directory) (run scripts/make_photo_fixtures.py)")
        }
        return [UInt8](data)
    }

    /// The fixture decoded as `predict` decodes it (by its first bytes).
    static func decoded(_ name: String) throws -> Image {
        try FashionInput.decode(bytes(name), name: name)
    }
}

/// The largest difference between two images' samples, or nil when their sizes or channels differ.
func largestDifference(_ a: Image, _ b: Image) -> Int? {
    guard a.width == b.width, a.height == b.height, a.channels == b.channels else { return nil }
    return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
}
