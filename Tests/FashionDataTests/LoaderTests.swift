import Foundation
import Testing
import FashionData
import FashionTestSupport

@Suite struct LocatorTests {
    @Test func searchOrder() {
        let locator = DataLocator(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"])
        #expect(locator.candidates.map(\.directory) == ["/x/fashionlab", "/usr/share/datasets/fashion-mnist"])
        #expect(locator.candidates.map(\.origin) == ["user cache", "system"])
        #expect(DataLocator(environment: ["HOME": "/h"]).cacheDirectory == "/h/.cache/fashionlab")
        #expect(DataLocator(environment: ["HOME": "/h"]).downloadDirectory == "/h/.cache/fashionlab")
    }

    @Test func aNamedDirectoryIsTheOnlyOneSearched() {
        let both = DataLocator(explicitDirectory: "/d", environment: ["FASHIONLAB_DATA": "/e", "XDG_CACHE_HOME": "/x"])
        #expect(both.candidates.map(\.directory) == ["/d"] && both.candidates.map(\.origin) == ["--data"])
        #expect(both.downloadDirectory == "/d")
        let environment = DataLocator(environment: ["FASHIONLAB_DATA": "/e", "XDG_CACHE_HOME": "/x"])
        #expect(environment.candidates.map(\.directory) == ["/e"] && environment.candidates.map(\.origin) == ["$FASHIONLAB_DATA"])
        #expect(environment.downloadDirectory == "/e")
    }

    /// A `--data` folder missing one file is not completed from another copy of the data (the system's here).
    @Test(.enabled(if: realDataAvailable, realDataMissingReason))
    func aFolderMissingAFileDoesNotFallBackToAnotherCopy() throws {
        let directory = TestFiles.newDirectory("partial-data")
        for file in FashionMNIST.files.dropLast() {
            try FileManager.default.copyItem(atPath: systemDataDirectory + "/" + file.name, toPath: directory + "/" + file.name)
        }
        var loader = FashionMNISTLoader(locator: DataLocator(explicitDirectory: directory, environment: ["HOME": TestFiles.newDirectory("home")]))
        loader.locator.systemDirectory = systemDataDirectory
        loader.allowDownload = false
        #expect(try loader.locator.locate() == nil)
        let error = try #require(throws: DataError.self) { try loader.load() }
        #expect("\(error)".contains(directory) && "\(error)".contains("lacks t10k-labels-idx1-ubyte.gz"), "\(error)")
    }

    @Test func missingExplicitDirectoryIsAnError() {
        let locator = DataLocator(explicitDirectory: "/no/such/dir", environment: ["HOME": "/tmp"])
        #expect(throws: DataError("--data /no/such/dir", "directory does not exist")) { try locator.locate() }
    }

    @Test func findsUncompressedFilesToo() throws {
        let directory = TestFiles.newDirectory("data")
        for file in FashionMNIST.files { write([0], to: directory + "/" + file.uncompressedName) }
        var locator = DataLocator(explicitDirectory: directory, environment: ["HOME": "/nonexistent"])
        locator.systemDirectory = "/nonexistent"
        #expect(try locator.locate()?.directory == directory)
    }
}

@Suite(.enabled(if: realDataAvailable, realDataMissingReason))
struct RealDatasetTests {
    @Test func loadsAndVerifiesFashionMNIST() throws {
        let record = TestFiles.newDirectory("data")
        let data = try FashionMNISTLoader.load(directory: systemDataDirectory, recordDirectory: record)
        #expect(data.train.imageShape == [60000, 28, 28])
        #expect(data.train.labelShape == [60000])
        #expect(data.test.imageShape == [10000, 28, 28])
        #expect(data.train.uniqueLabels == Array(0..<10))
        #expect(data.train.classCounts == [Int](repeating: 6000, count: 10))
        #expect(data.test.classCounts == [Int](repeating: 1000, count: 10))
        // The verification is remembered, and the second load trusts it.
        let remembered = try String(contentsOfFile: record + "/verified.tsv", encoding: .utf8)
        #expect(remembered.split(separator: "\n").count == 4)
        let again = try FashionMNISTLoader.load(directory: systemDataDirectory, recordDirectory: record)
        #expect(again.train.labels == data.train.labels)
        // First training label of Fashion-MNIST is 9 (Ankle boot), first test label 9 too.
        #expect(data.train.labels[0] == 9 && data.test.labels[0] == 9)
    }

    @Test func detectsAChecksumMismatch() throws {
        let directory = TestFiles.newDirectory("data")
        for file in FashionMNIST.files {
            try FileManager.default.copyItem(atPath: systemDataDirectory + "/" + file.name, toPath: directory + "/" + file.name)
        }
        // Change one label (still a valid class) and store it uncompressed.
        let labelsPath = directory + "/" + FashionMNIST.testLabels.name
        var raw = try Gzip.decompress(readFile(labelsPath), name: labelsPath)
        raw[100] = (raw[100] + 1) % 10
        try FileManager.default.removeItem(atPath: labelsPath)
        write(raw, to: directory + "/" + FashionMNIST.testLabels.uncompressedName)
        let error = #expect(throws: DataError.self) { try FashionMNISTLoader.load(directory: directory) }
        #expect(error?.subject == directory + "/t10k-labels-idx1-ubyte")
        #expect(error?.message.hasPrefix("checksum mismatch: SHA-256 of the decompressed content is") == true)
    }

    @Test func detectsATruncatedGzip() throws {
        let directory = TestFiles.newDirectory("data")
        for file in FashionMNIST.files {
            try FileManager.default.copyItem(atPath: systemDataDirectory + "/" + file.name, toPath: directory + "/" + file.name)
        }
        let path = directory + "/" + FashionMNIST.trainLabels.name
        write(Array(readFile(path).prefix(10_000)), to: path)
        let error = #expect(throws: DataError.self) { try FashionMNISTLoader.load(directory: directory) }
        #expect(error?.subject == path)
        #expect(error?.message.contains("truncated gzip stream") == true)
    }
}

@Suite(.enabled(if: realDataAvailable, realDataMissingReason))
struct DownloadTests {
    /// Routes serving the real files under /good/, and broken variants elsewhere.
    static func makeServer() throws -> LocalHTTPServer {
        var routes: [String: LocalHTTPServer.Response] = [:]
        for file in FashionMNIST.files {
            let bytes = readFile(systemDataDirectory + "/" + file.name)
            routes["/good/" + file.name] = .init(body: bytes)
            routes["/truncated/" + file.name] = .init(body: Array(bytes.prefix(bytes.count / 3)), announcedLength: bytes.count)
            // A valid gzip of the wrong content: the right size, one byte changed.
            var raw = try Gzip.decompress(bytes, name: file.name)
            raw[raw.count - 1] ^= 1
            routes["/corrupt/" + file.name] = .init(body: Gzip.compress(raw))
        }
        return try LocalHTTPServer(routes: routes)
    }

    func loader(into directory: String, mirror: String) -> FashionMNISTLoader {
        var loader = FashionMNISTLoader(locator: DataLocator(explicitDirectory: directory, environment: ["HOME": directory + "/home"]))
        loader.locator.systemDirectory = "/nonexistent"
        loader.mirror = mirror
        return loader
    }

    func leftovers(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { !$0.hasPrefix(".fashionlab-download.lock") && $0 != "home" }
    }

    @Test func downloadsVerifiesAndLoads() throws {
        let server = try Self.makeServer()
        defer { server.stop() }
        let directory = TestFiles.newDirectory("data")
        nonisolated(unsafe) var progressCalls = 0
        var loader = loader(into: directory, mirror: server.baseURL + "good/")
        loader.progress = { _, _ in progressCalls += 1 }
        let data = try loader.load()
        #expect(data.train.count == 60000 && data.test.count == 10000)
        #expect(Set(leftovers(in: directory)) == Set(FashionMNIST.files.map(\.name)))
        #expect(progressCalls > 0)
        // Found there next time: no further requests.
        let requests = server.requests
        _ = try self.loader(into: directory, mirror: server.baseURL + "good/").load()
        #expect(server.requests == requests)
    }

    @Test func reportsHTTPErrorsAndLeavesNothing() throws {
        let server = try Self.makeServer()
        defer { server.stop() }
        let directory = TestFiles.newDirectory("data")
        let error = #expect(throws: DataError.self) { try loader(into: directory, mirror: server.baseURL + "missing/").load() }
        #expect(error?.subject == server.baseURL + "missing/" + FashionMNIST.trainImages.name)
        #expect(error?.message.hasPrefix("HTTP 404") == true)
        #expect(leftovers(in: directory).isEmpty)
    }

    @Test func reportsTruncatedDownloads() throws {
        let server = try Self.makeServer()
        defer { server.stop() }
        let directory = TestFiles.newDirectory("data")
        let error = #expect(throws: DataError.self) { try loader(into: directory, mirror: server.baseURL + "truncated/").load() }
        let message = error?.message ?? ""
        #expect(message.contains("truncated") || message.contains("connection lost"), "\(message)")
        #expect(leftovers(in: directory).isEmpty)
    }

    @Test func reportsChecksumMismatches() throws {
        let server = try Self.makeServer()
        defer { server.stop() }
        let directory = TestFiles.newDirectory("data")
        let error = #expect(throws: DataError.self) { try loader(into: directory, mirror: server.baseURL + "corrupt/").load() }
        #expect(error?.message.hasPrefix("checksum mismatch") == true)
        #expect(leftovers(in: directory).isEmpty)
    }

    @Test func reportsAnUnreachableHost() throws {
        // A port that was just free: nothing listens there.
        let server = try LocalHTTPServer(routes: [:])
        let url = server.baseURL
        server.stop()
        let directory = TestFiles.newDirectory("data")
        let error = #expect(throws: DataError.self) { try loader(into: directory, mirror: url).load() }
        #expect(error?.message.hasPrefix("host unreachable") == true, "\(error?.message ?? "")")
        #expect(leftovers(in: directory).isEmpty)
    }

    @Test func concurrentDownloadsShareTheCache() async throws {
        let server = try Self.makeServer()
        defer { server.stop() }
        let directory = TestFiles.newDirectory("data")
        let first = loader(into: directory, mirror: server.baseURL + "good/")
        let second = loader(into: directory, mirror: server.baseURL + "good/")
        async let a = Task.detached { try first.load().train.count }.value
        async let b = Task.detached { try second.load().train.count }.value
        let counts = try await [a, b]
        #expect(counts == [60000, 60000])
        #expect(Set(leftovers(in: directory)) == Set(FashionMNIST.files.map(\.name)))
        // The lock made the second process wait and reuse the first one's files.
        #expect(server.requests == 4)
    }
}
