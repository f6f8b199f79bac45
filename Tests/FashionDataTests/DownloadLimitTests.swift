import Foundation
import Testing
import FashionData
import FashionTestSupport

/// Downloads from local servers that misbehave on purpose: each must end with a clear error and leave nothing but
/// the (empty) lock file behind. The seconds each took are printed, not asserted (the machines are noisy); what
/// bounds them is the error each one must end with (a size cap, a speed window, a deadline, a redirect count).
@Suite struct DownloadLimitTests {
    static let file = FashionMNIST.testLabels
    /// The start of a plausible download: a gzip of a labels file (header and labels), valid so far.
    static let plausibleStart: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        let labels = IDXArray(dimensions: [10_000], bytes: (0..<10_000).map { _ in UInt8.random(in: 0...9, using: &generator) })
        return Gzip.compress(labels.encoded())
    }()
    /// An empty gzip member: an endless stream of them is valid gzip that inflates to nothing.
    static let emptyMember = Gzip.compress([])

    func leftovers(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0 != ".fashionlab-download.lock" }
    }

    /// Downloads `path` from `server` with `limits`; returns the error, the seconds it took and what was left.
    func attempt(_ server: LocalHTTPServer, _ path: String, limits: MirrorDownloader.Limits = .init())
        -> (error: DataError?, seconds: Double, left: [String]) {
        let directory = TestFiles.newDirectory("download")
        var downloader = MirrorDownloader(mirror: server.baseURL + path)
        downloader.limits = limits
        let start = Date()
        var caught: DataError?
        do {
            try downloader.download(Self.file, into: directory)
        } catch let error as DataError {
            caught = error
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return (caught, Date().timeIntervalSince(start), leftovers(in: directory))
    }

    /// Once the downloader refuses a body, the connection should close: the server gets no further than the
    /// sockets' buffers. Known bug, intermittent (2 of 6 runs of this suite on 2026-12-05): after
    /// `dataTask.cancel()`, Foundation's URLSession (swift-corelibs-foundation, libcurl) sometimes goes on
    /// receiving at loopback speed, buffering what it gets; the test server stops at
    /// ``LocalHTTPServer/endlessBound`` (without that bound the test process grew to 24 GB and was OOM-killed).
    static func expectTheClientStoppedReading(_ server: LocalHTTPServer) {
        withKnownIssue("URLSession goes on reading after cancel()", isIntermittent: true) {
            #expect(server.sent < 16 << 20, "the client kept reading: \(server.sent) bytes sent")
        }
    }

    @Test func anEndlessBodyWithoutLengthStopsAtTheCap() throws {
        let server = try LocalHTTPServer(routes: ["/endless/" + Self.file.name:
            .init(body: Self.emptyMember, sendsLength: false, behaviour: .endless(repeating: Self.emptyMember))])
        defer { server.stop() }
        let (error, seconds, left) = attempt(server, "endless/")
        print("endless body: \(String(format: "%.2f", seconds)) s, \(server.sent) bytes sent: \(error?.description ?? "no error")")
        #expect(error?.message.contains("longer than the \(Self.file.maxDownloadSize) bytes") == true, "\(error?.description ?? "no error")")
        #expect(left.isEmpty, "\(left)")
        Self.expectTheClientStoppedReading(server)
    }

    @Test func aHugeContentLengthIsRefusedBeforeReading() throws {
        let server = try LocalHTTPServer(routes: ["/huge/" + Self.file.name:
            .init(body: Self.plausibleStart, announcedLength: 1 << 40, behaviour: .drip(interval: 0.5))])
        defer { server.stop() }
        let (error, seconds, left) = attempt(server, "huge/")
        print("huge Content-Length: \(String(format: "%.2f", seconds)) s: \(error?.description ?? "no error")")
        #expect(error?.message.hasPrefix("the server announces 1099511627776 bytes, more than the \(Self.file.maxDownloadSize)") == true,
                "\(error?.description ?? "no error")")
        #expect(left.isEmpty, "\(left)")
    }

    @Test func aServerDrippingAByteASecondIsAbandonedAfterTheSpeedWindow() throws {
        let server = try LocalHTTPServer(routes: ["/drip/" + Self.file.name: .init(body: Self.plausibleStart, behaviour: .drip(interval: 1))])
        defer { server.stop() }
        var limits = MirrorDownloader.Limits()
        limits.speedLimit = 100
        limits.speedTime = 2
        let (error, seconds, left) = attempt(server, "drip/", limits: limits)
        print("dripping server: \(String(format: "%.2f", seconds)) s: \(error?.description ?? "no error")")
        #expect(error?.message.hasPrefix("download too slow") == true, "\(error?.description ?? "no error")")
        #expect(seconds >= 2, "\(seconds) s")
        #expect(left.isEmpty, "\(left)")
    }

    @Test func theOverallDeadlineEndsASlowButSteadyDownload() throws {
        let server = try LocalHTTPServer(routes: ["/steady/" + Self.file.name: .init(body: Self.plausibleStart, behaviour: .drip(interval: 0.02))])
        defer { server.stop() }
        var limits = MirrorDownloader.Limits()
        limits.speedLimit = 1
        // Longer than the deadline: on a machine loaded by the other tests the dripping server can stall for a
        // second, and the speed limit must not be what ends the download.
        limits.speedTime = 4
        limits.deadline = 2
        let (error, seconds, left) = attempt(server, "steady/", limits: limits)
        print("deadline: \(String(format: "%.2f", seconds)) s: \(error?.description ?? "no error")")
        #expect(error?.message.hasPrefix("download took longer than 2 s") == true, "\(error?.description ?? "no error")")
        #expect(seconds >= 2, "\(seconds) s")
        #expect(left.isEmpty, "\(left)")
    }

    @Test func aRedirectLoopStopsAfterFiveRedirects() throws {
        let loopPath = "/loop/" + Self.file.name
        let server = try LocalHTTPServer(routes: [loopPath: .init(behaviour: .redirect(location: loopPath))])
        defer { server.stop() }
        let (error, seconds, left) = attempt(server, "loop/")
        print("redirect loop: \(String(format: "%.2f", seconds)) s, \(server.requests) requests: \(error?.description ?? "no error")")
        #expect(error?.message.contains("more than 5 redirects") == true, "\(error?.description ?? "no error")")
        #expect(server.requests <= 6, "\(server.requests) requests")
        #expect(left.isEmpty, "\(left)")
    }

    /// The cause of this suite's flakes under load (a redirect loop answered "404 Not Found" after one request):
    /// a test server stopped before its accept loop had run closed its socket, the next server in the process
    /// got the same descriptor number, and the old loop then accepted, and answered, the new server's
    /// connections. Servers started and stopped at once, each followed by a request to a live one, make that
    /// window as likely as a test run can.
    @Test func aStoppedServerNeverAnswersForTheNextOne() throws {
        for round in 0..<300 {
            let stopped = try LocalHTTPServer(routes: [:])
            stopped.stop()
            let live = try LocalHTTPServer(routes: ["/here": .init(body: Array("here".utf8))])
            defer { live.stop() }
            let status = try Self.statusLine(port: live.port, path: "/here")
            #expect(status.hasPrefix("HTTP/1.1 200"), "round \(round): \(status)")
            if !status.hasPrefix("HTTP/1.1 200") { break }
        }
    }

    /// The status line a GET of `path` on 127.0.0.1:`port` is answered with.
    static func statusLine(port: UInt16, path: String) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 256)
        while !response.contains(13) {
            let n = read(socket, &buffer, buffer.count)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return String(decoding: response.prefix { $0 != 13 }, as: UTF8.self)
    }

    @Test func aRedirectToAnotherSchemeIsRefused() throws {
        let path = "/elsewhere/" + Self.file.name
        let server = try LocalHTTPServer(routes: [path: .init(behaviour: .redirect(location: "file:///etc/passwd"))])
        defer { server.stop() }
        let (error, _, left) = attempt(server, "elsewhere/")
        print("redirect to file: \(error?.description ?? "no error")")
        // Foundation on Linux does not always ask the delegate before following (the refusal in the
        // delegate covers where it does); either way the download fails and nothing is kept.
        #expect(error != nil)
        #expect(left.isEmpty, "\(left)")
    }

    @Test func contentThatIsNotTheFileStopsAtItsFirstBadBytes() throws {
        let server = try LocalHTTPServer(routes: ["/zeros/" + Self.file.name:
            .init(body: [0, 0, 0], sendsLength: false, behaviour: .endless(repeating: [UInt8](repeating: 0, count: 4096)))])
        defer { server.stop() }
        let (error, _, left) = attempt(server, "zeros/")
        #expect(error?.message.contains("not a gzip file") == true, "\(error?.description ?? "no error")")
        #expect(left.isEmpty, "\(left)")
        Self.expectTheClientStoppedReading(server)
    }
}
