import Foundation
import Testing
import FashionTestSupport

/// Ctrl-C during `fashionlab prepare`'s download: the process stops promptly with a clear error and a
/// non-zero exit, and removes its partial `.part-PID` file.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: fashionlabBinary), "the fashionlab binary is not built beside the tests"))
struct InterruptedDownloadTests {
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalDuringTheDownloadRemovesThePartialFile(_ signal: Int32) throws {
        // A valid start (a gzip header, a stored deflate block of 65,535 bytes beginning with the IDX
        // magic number), dripped two bytes a second: under way, valid so far, never ending by itself.
        let header: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0xff, 0xff, 0x00, 0x00]
        var routes: [String: LocalHTTPServer.Response] = [:]
        for (name, magic) in [("train-images-idx3-ubyte.gz", 3), ("train-labels-idx1-ubyte.gz", 1),
                              ("t10k-images-idx3-ubyte.gz", 3), ("t10k-labels-idx1-ubyte.gz", 1)] as [(String, UInt8)] {
            routes["/" + name] = .init(body: header + [0, 0, 8, magic], announcedLength: 70_000, behaviour: .drip(interval: 0.5))
        }
        let server = try LocalHTTPServer(routes: routes)
        defer { server.stop() }
        let data = TestFiles.newDirectory("interrupted-data")
        let home = TestFiles.newDirectory("home")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: fashionlabBinary)
        process.arguments = ["prepare", "--data", data, "--out", data + "/samples.png"]
        var environment = ProcessInfo.processInfo.environment
        environment["FASHIONLAB_MIRROR"] = server.baseURL
        environment["FASHIONLAB_SYSTEM_DATA"] = ""  // do not find Debian's copy instead of downloading
        environment["FASHIONLAB_DATA"] = nil
        environment["HOME"] = home
        environment["XDG_CACHE_HOME"] = home + "/cache"
        process.environment = environment
        let errorPipe = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errorPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()

        func partialFiles() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []).filter { $0.contains(".part-") }
        }
        // Wait until the partial file exists and has received bytes, i.e. the download is streaming.
        let waitStart = Date()
        while partialFiles().isEmpty, Date().timeIntervalSince(waitStart) < 30, process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(!partialFiles().isEmpty, "the download never started")
        Thread.sleep(forTimeInterval: 0.5)
        let signalled = Date()
        kill(process.processIdentifier, signal)
        while process.isRunning, Date().timeIntervalSince(signalled) < 15 { Thread.sleep(forTimeInterval: 0.05) }
        let seconds = Date().timeIntervalSince(signalled)
        if process.isRunning {
            Issue.record("still running 15 s after signal \(signal); killed")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let stderr = errorPipe.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: stderr, as: UTF8.self)
        print("signal \(signal): exited \(process.terminationStatus) after \(String(format: "%.2f", seconds)) s: \(message.split(separator: "\n").last ?? "")")

        #expect(process.terminationReason == .exit, "killed by the signal instead of stopping cleanly")
        #expect(process.terminationStatus == 130, "as a program stopped by Ctrl-C ends")
        #expect(message.contains("download interrupted"), "\(message)")
        #expect(partialFiles().isEmpty, "left behind: \(partialFiles())")
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []).filter { $0 != ".fashionlab-download.lock" }
        #expect(left.isEmpty, "left behind: \(left)")
    }
}
