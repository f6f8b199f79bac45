import FashionCore
import Testing
import FashionData
import FashionTestSupport

@Suite struct GzipTests {
    let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251) }

    @Test func roundTrip() throws {
        let compressed = Gzip.compress(payload)
        #expect(Gzip.hasMagic(compressed))
        #expect(try Gzip.decompress(compressed, name: "x.gz") == payload)
    }

    @Test func multipleMembersAreConcatenated() throws {
        let joined = Gzip.compress(Array(payload[..<500])) + Gzip.compress(Array(payload[500...]))
        #expect(try Gzip.decompress(joined, name: "x.gz") == payload)
    }

    @Test func rejectsNonGzip() {
        #expect(throws: DataError("x.gz", "not a gzip file (the first bytes are not 1f 8b)")) {
            try Gzip.decompress([1, 2, 3], name: "x.gz")
        }
    }

    @Test func rejectsTruncatedStream() {
        let compressed = Gzip.compress(payload)
        let error = #expect(throws: DataError.self) { try Gzip.decompress(Array(compressed.prefix(compressed.count / 2)), name: "x.gz") }
        #expect(error?.subject == "x.gz")
        #expect(error?.message.contains("truncated") == true)
    }

    @Test func rejectsCorruptStream() {
        var compressed = Gzip.compress(payload)
        compressed[compressed.count - 6] ^= 0xff  // the CRC in the trailer
        let error = #expect(throws: DataError.self) { try Gzip.decompress(compressed, name: "x.gz") }
        #expect(error?.message.contains("corrupt") == true)
    }

    @Test func rejectsTrailingGarbage() {
        let error = #expect(throws: DataError.self) { try Gzip.decompress(Gzip.compress(payload) + [1, 2, 3], name: "x.gz") }
        #expect(error?.message.contains("3 trailing bytes") == true)
    }

    @Test func refusesOutputBeyondLimit() {
        let error = #expect(throws: DataError.self) { try Gzip.decompress(Gzip.compress(payload), name: "x.gz", limit: 1000) }
        #expect(error?.message.contains("more than 1000 bytes") == true)
    }
}

@Suite struct IDXTests {
    @Test func parsesImagesAndLabels() throws {
        let (images, labels) = tinyIDX(count: 3)
        let parsedImages = try IDX.parse(images, name: "i", expectedMagic: 0x803)
        #expect(parsedImages.dimensions == [3, 2, 2])
        #expect(parsedImages.bytes == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
        let parsedLabels = try IDX.parse(Gzip.compress(labels), name: "l.gz", expectedMagic: 0x801)
        #expect(parsedLabels.dimensions == [3])
        #expect(parsedLabels.bytes == [0, 1, 2])
    }

    @Test func rejectsWrongMagic() {
        let (_, labels) = tinyIDX(count: 3)
        let error = #expect(throws: DataError.self) { try IDX.parse(labels, name: "images", expectedMagic: 0x803) }
        #expect(error?.description == "images: wrong magic number 0x00000801, expected 0x00000803 (images)")
    }

    @Test func rejectsTruncatedPayload() {
        let (images, _) = tinyIDX(count: 3)
        let error = #expect(throws: DataError.self) { try IDX.parse(Array(images.dropLast(5)), name: "f") }
        #expect(error?.message == "truncated payload: dimensions [3, 2, 2] need 12 bytes, the file has 7")
    }

    @Test func rejectsTrailingBytes() {
        let (images, _) = tinyIDX(count: 3)
        let error = #expect(throws: DataError.self) { try IDX.parse(images + [9, 9], name: "f") }
        #expect(error?.message.contains("2 trailing bytes") == true)
    }

    @Test func rejectsOtherElementTypesAndShortHeaders() {
        #expect(throws: DataError.self) { try IDX.parse([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], name: "f") }
        #expect(throws: DataError.self) { try IDX.parse([0, 0, 8, 3, 0, 0], name: "f") }
        #expect(throws: DataError.self) { try IDX.parse([0, 0], name: "f") }
        // 2^32-1 squared overflows nothing but is far more than the file holds.
        #expect(throws: DataError.self) { try IDX.parse([0, 0, 8, 2, 255, 255, 255, 255, 255, 255, 255, 255], name: "f") }
    }
}

/// Headers whose sizes multiply past Int.max somewhere, wherever a zero hides the overflow from the payload's
/// size: each is refused by the parser, and a pair of them with equal (zero) counts by the dataset reader.
private let huge: UInt32 = 0xFFFF_FFFF

@Suite struct IDXZeroCountOverflowTests {
    static func header(_ dimensions: [UInt32]) -> [UInt8] {
        IDXArray(dimensions: dimensions.map(Int.init), bytes: []).encoded()
    }

    @Test(arguments: [[0, huge, huge], [huge, 0, huge], [huge, huge, 0], [0, 0, huge, huge], [1, huge, huge, 0]])
    func aZeroDoesNotHideAnOverflow(dimensions: [UInt32]) {
        let error = #expect(throws: DataError.self) { try IDX.parse(Self.header(dimensions), name: "f") }
        #expect(error?.message.hasSuffix("overflow") == true, "\(error?.description ?? "no error")")
    }

    @Test func zeroCountsWithHugeImagesAreRefusedNotTrapped() {
        let directory = TestFiles.newDirectory("data")
        write(Gzip.compress(Self.header([0, huge, huge])), to: directory + "/images.gz")
        write(Self.header([0]), to: directory + "/labels")
        let error = #expect(throws: DataError.self) {
            try FashionMNISTLoader.readDataset(imagesPath: directory + "/images.gz", labelsPath: directory + "/labels")
        }
        #expect(error?.description == "\(directory)/images.gz: IDX dimensions [0, 4294967295, 4294967295] overflow")
    }

    @Test func aDatasetOfOverflowingImageSizeIsRefused() {
        #expect(throws: DataError.self) { try Dataset(images: [], labels: [], rows: Int.max / 2, cols: 3) }
    }
}

@Suite struct DatasetTests {
    @Test func readsTinyDatasetFromFiles() throws {
        let directory = TestFiles.newDirectory("data")
        let (images, labels) = tinyIDX(count: 25)
        write(Gzip.compress(images), to: directory + "/images.gz")
        write(labels, to: directory + "/labels")
        let dataset = try FashionMNISTLoader.readDataset(imagesPath: directory + "/images.gz", labelsPath: directory + "/labels")
        #expect(dataset.imageShape == [25, 2, 2])
        #expect(dataset.uniqueLabels == Array(0..<10))
        #expect(dataset.classCounts == [3, 3, 3, 3, 3, 2, 2, 2, 2, 2])
        #expect(Array(dataset.image(7)) == [7, 7, 7, 7])
    }

    @Test func rejectsCountMismatch() {
        let directory = TestFiles.newDirectory("data")
        let (images, labels) = tinyIDX(count: 25, labelCount: 24)
        write(images, to: directory + "/images")
        write(labels, to: directory + "/labels")
        let error = #expect(throws: DataError.self) {
            try FashionMNISTLoader.readDataset(imagesPath: directory + "/images", labelsPath: directory + "/labels")
        }
        #expect(error?.message == "image and label counts disagree: 25 images, 24 labels")
    }

    @Test func rejectsLabelsOutsideTheClasses() {
        let directory = TestFiles.newDirectory("data")
        let (images, _) = tinyIDX(count: 2)
        write(images, to: directory + "/images")
        write(IDXArray(dimensions: [2], bytes: [3, 12]).encoded(), to: directory + "/labels")
        let error = #expect(throws: DataError.self) {
            try FashionMNISTLoader.readDataset(imagesPath: directory + "/images", labelsPath: directory + "/labels")
        }
        #expect(error?.message == "label value 12 at index 1 is outside 0…9")
    }

    @Test func randomSamplesAreDistinctPerClassAndSeeded() throws {
        let dataset = try Dataset(images: [UInt8](repeating: 0, count: 100 * 4), labels: (0..<100).map { UInt8($0 % 10) }, rows: 2, cols: 2)
        var first = SeededGenerator(seed: 7)
        var second = SeededGenerator(seed: 7)
        let a = dataset.randomSamples(perClass: 5, using: &first)
        let b = dataset.randomSamples(perClass: 5, using: &second)
        #expect(a == b)
        for (label, indices) in a.enumerated() {
            #expect(Set(indices).count == 5)
            #expect(indices.allSatisfy { Int(dataset.labels[$0]) == label })
        }
    }
}
