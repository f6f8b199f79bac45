import Foundation
import Testing
import FashionImaging
import FashionTestSupport

/// Small files whose header asks for much memory: pictures of extreme shape, depth and colour type, each made
/// as a stranger would send it (valid CRCs, rows of zeros deflated to a few hundred kilobytes at most), given to
/// the real `fashionlab predict` in a child process whose peak resident memory is read back from the kernel.
/// Each must be classified or refused with an error naming the file, and never take more memory than
/// ``ImageLimits/maxWorkingMemory`` beyond what predicting a 28×28 picture takes.
@Suite(.serialized, .timeLimit(.minutes(10))) struct WorkingMemoryTests {
    struct Attack: CustomTestStringConvertible, Sendable {
        let width: Int, height: Int, colorType: UInt8, depth: UInt8
        var interlaced = false
        var transparency: [UInt8]? = nil
        var testDescription: String {
            "\(width)×\(height) colour type \(colorType), \(depth)-bit" + (interlaced ? ", interlaced" : "") + (transparency == nil ? "" : ", tRNS")
        }
    }

    static let attacks: [Attack] = [
        Attack(width: 50_000_000, height: 1, colorType: 0, depth: 8),
        Attack(width: 1, height: 50_000_000, colorType: 0, depth: 8),
        Attack(width: 50_000_000, height: 1, colorType: 6, depth: 16),
        Attack(width: 1, height: 50_000_000, colorType: 6, depth: 16),
        Attack(width: 25_000_000, height: 2, colorType: 2, depth: 16),
        Attack(width: 7071, height: 7071, colorType: 6, depth: 16),
        Attack(width: 7071, height: 7071, colorType: 6, depth: 16, interlaced: true),
        Attack(width: 50_000_000, height: 1, colorType: 3, depth: 8, transparency: [0]),
        Attack(width: 1, height: 50_000_000, colorType: 4, depth: 16, interlaced: true),
        Attack(width: 12_500_000, height: 4, colorType: 0, depth: 1, interlaced: true),
    ]

    @Test(arguments: attacks)
    func extremePNGsStayWithinTheWorkingMemory(_ attack: Attack) throws {
        let png = try PNG.blank(width: attack.width, height: attack.height, colorType: attack.colorType, depth: attack.depth,
                                interlaced: attack.interlaced, transparency: attack.transparency)
        #expect(png.count < 500_000, "a small file: \(png.count) bytes")
        try expectWithinWorkingMemory(png, name: "attack.png")
    }

    /// progressive.jpg (4:4:4 colour) with a frame header saying 65,000×769: libjpeg would keep every DCT coefficient
    /// of it, 300 MB, so it is refused on its header, before any memory is taken for it.
    @Test func anExtremeProgressiveJPEGIsRefusedOnItsHeader() throws {
        let jpeg = try resizedJPEG(Fixtures.bytes("progressive.jpg"), width: 65_000, height: 769)
        let (run, baseline, path) = try predict(jpeg, name: "attack.jpg")
        #expect(run.status == 1 && run.standardError.contains(path) && run.standardError.contains("MB of working memory"), "\(run.standardError)")
        #expect(run.peakBytes <= baseline.peakBytes + 16_000_000, "peak \(run.peakBytes / 1_000_000) MB, a 28×28 picture's \(baseline.peakBytes / 1_000_000) MB")
    }

    /// The picture given to `fashionlab predict`: the exit status is 0, or 1 with an error naming the file; the
    /// peak memory is within the working memory of the promise above a 28×28 picture's peak.
    func expectWithinWorkingMemory(_ picture: [UInt8], name: String) throws {
        let (run, baseline, path) = try predict(picture, name: name)
        #expect(run.status == 0 || (run.status == 1 && run.standardError.contains(path)), "status \(run.status): \(run.standardError)")
        // The file itself is held twice (as read, and as bytes).
        let bound = baseline.peakBytes + ImageLimits.maxWorkingMemory + 2 * picture.count
        #expect(run.peakBytes <= bound, "peak \(run.peakBytes / 1_000_000) MB, bound \(bound / 1_000_000) MB (a 28×28 picture: \(baseline.peakBytes / 1_000_000) MB); \(run.standardError)")
    }

    /// `fashionlab predict` of `picture` (saved as `name`) and of a 28×28 picture, with a model that loads at once.
    func predict(_ picture: [UInt8], name: String) throws -> (run: PeakMemory.Result, baseline: PeakMemory.Result, path: String) {
        let directory = TestFiles.newDirectory("memory")
        let model = directory + "/model.safetensors", path = directory + "/" + name, tiny = directory + "/tiny.png"
        try Data(Self.zeroModel()).write(to: URL(fileURLWithPath: model))
        try Data(picture).write(to: URL(fileURLWithPath: path))
        try Data(PNG.encode(Image(width: 28, height: 28, gray: 200))).write(to: URL(fileURLWithPath: tiny))
        let baseline = try PeakMemory.run(fashionlabBinary, ["predict", model, tiny])
        #expect(baseline.status == 0, "\(baseline.standardError)")
        return (try PeakMemory.run(fashionlabBinary, ["predict", model, path]), baseline, path)
    }

    /// A safetensors MLP 784→1→10 under PyTorch's names, all zeros: the smallest model `predict` loads.
    static func zeroModel() -> [UInt8] {
        let tensors: [(String, [Int])] = [("0.weight", [1, 784]), ("0.bias", [1]), ("2.weight", [10, 1]), ("2.bias", [10])]
        var offset = 0
        let entries = tensors.map { name, shape -> String in
            let bytes = 4 * shape.reduce(1, *)
            defer { offset += bytes }
            return "\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes)]}"
        }
        let header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        return withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + [UInt8](repeating: 0, count: offset)
    }
}

/// `jpeg` with its frame header (SOF) saying `width`×`height`: the scan data is the small picture's, so libjpeg
/// runs out of it and refuses the file, after taking the memory the header asked for.
func resizedJPEG(_ jpeg: [UInt8], width: Int, height: Int) throws -> [UInt8] {
    var bytes = jpeg, offset = 2
    while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
        let marker = bytes[offset + 1]
        let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        if (0xC0...0xC2).contains(marker) {
            (bytes[offset + 5], bytes[offset + 6]) = (UInt8(height >> 8), UInt8(height & 0xFF))
            (bytes[offset + 7], bytes[offset + 8]) = (UInt8(width >> 8), UInt8(width & 0xFF))
            return bytes
        }
        offset += 2 + length
    }
    throw ImageError("resizedJPEG", "no frame header found")
}
