import Foundation
import Testing
import FashionData
import FashionTestSupport

/// A dataset directory whose four files are given by `make`, each written under its catalogue name.
func datasetDirectory(_ make: (FashionMNIST.File, String) throws -> Void) rethrows -> String {
    let directory = TestFiles.newDirectory("sizes")
    for file in FashionMNIST.files { try make(file, directory) }
    return directory
}

@Suite struct FileSizeLimitTests {
    /// A plain IDX file larger than the catalogue says (sparse, so it takes no disk): refused by its size
    /// before a byte is read. Before the fix the whole gigabyte was read into memory first.
    @Test func plainFilesLargerThanTheCatalogueAreRefusedBeforeReading() throws {
        let directory = datasetDirectory { file, directory in
            let path = directory + "/" + file.uncompressedName
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let descriptor = open(path, O_WRONLY)
            defer { close(descriptor) }
            #expect(ftruncate(descriptor, 1 << 30) == 0)
        }
        // The size alone refuses it (the message says so): nothing was read.
        let error = #expect(throws: DataError.self) { _ = try FashionMNISTLoader.load(directory: directory) }
        #expect(error?.message.contains("is 1073741824 bytes, larger than the") == true, "\(error?.message ?? "")")
    }

    @Test func gzipFilesLargerThanAnyGzipOfTheFileAreRefusedBeforeReading() throws {
        let directory = datasetDirectory { file, directory in
            let path = directory + "/" + file.name
            _ = FileManager.default.createFile(atPath: path, contents: Data([0x1f, 0x8b]))
            let descriptor = open(path, O_WRONLY)
            defer { close(descriptor) }
            #expect(ftruncate(descriptor, off_t(FashionMNIST.maxStoredGzipSize + 1)) == 0)
        }
        let error = #expect(throws: DataError.self) { _ = try FashionMNISTLoader.load(directory: directory) }
        #expect(error?.message.contains("larger than any gzip of a Fashion-MNIST file can be") == true, "\(error?.message ?? "")")
    }

    /// A small .gz that inflates past the limit (a "gzip bomb") stops at the limit.
    @Test func gzipIsDecompressedWithALimit() throws {
        let bomb = Gzip.compress([UInt8](repeating: 0, count: (64 << 20) + 1), level: 9)
        #expect(bomb.count < FashionMNIST.testLabels.maxDownloadSize)
        let directory = datasetDirectory { file, directory in write(bomb, to: directory + "/" + file.name) }
        let error = #expect(throws: DataError.self) { _ = try FashionMNISTLoader.load(directory: directory) }
        #expect(error?.message.contains("decompresses to more than 67108864 bytes") == true, "\(error?.message ?? "")")
    }

    @Test func maxDownloadSizeIsTheDecompressedSizePlusAMargin() {
        for file in FashionMNIST.files {
            #expect(file.maxDownloadSize == file.decompressedSize + file.decompressedSize / 64 + 65_536)
        }
    }
}

@Suite struct IDXOverflowTests {
    static func header(_ dimensions: [UInt32]) -> [UInt8] {
        [0, 0, 8, UInt8(dimensions.count)] + dimensions.flatMap { d in [UInt8(d >> 24), UInt8((d >> 16) & 0xff), UInt8((d >> 8) & 0xff), UInt8(d & 0xff)] }
    }

    @Test func dimensionsWhoseProductOverflowsAreRefused() {
        let error = #expect(throws: DataError.self) {
            try IDX.parseRaw(Self.header([.max, .max, .max]) + [1, 2, 3], name: "huge.idx", expectedMagic: 0x803)
        }
        #expect(error?.message.contains("overflow") == true, "\(error?.message ?? "")")
    }

    @Test func aHeaderClaimingMoreThanTheFileHoldsAllocatesNothing() {
        let error = #expect(throws: DataError.self) {
            try IDX.parseRaw(Self.header([0x10000, 0x10000, 0x10000]) + [1, 2, 3], name: "claims.idx", expectedMagic: 0x803)
        }
        #expect(error?.message.hasPrefix("truncated payload") == true, "\(error?.message ?? "")")
    }
}
