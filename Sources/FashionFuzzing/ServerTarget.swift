import Foundation
import FashionCore
import FashionEngine
import FashionTraining

/// `fashionlab serve` attacked as a stranger would: a real server (the `fashionlab` binary beside this program, or
/// `$FASHIONLAB_BINARY`) on 127.0.0.1, port 0, over a small runs folder that holds a run with a model, a valid but
/// huge `metrics.json`, a broken one and links out of the folder; sent malformed and hostile requests over raw
/// sockets. Its promises: it keeps answering, it refuses every request addressed to another name or sent by another
/// site's page (403), it reads nothing outside the folder, it never fails with 500, a page that stops following
/// live updates frees its place at once, a client that sends slowly is cut off after `--request-time`, and its
/// resident memory stays under ``FuzzTargets/serverMemoryBound``.
extension FuzzTargets {
    /// The most resident memory (`VmHWM`) the server may reach in a pass: its own ≈ 40 MB, an upload at the 10 MB
    /// limit being read, and room for the allocator; a run's history is never decoded past the 32 MB limit.
    public static let serverMemoryBound = 160 << 20

    static var serve: FuzzTarget {
        FuzzTarget(name: "serve", summary: "malformed and hostile HTTP requests to a live fashionlab serve on 127.0.0.1; its memory under \(serverMemoryBound >> 20) MB") {
            inputs, seed, progress in ServerFuzzing.pass(inputs: inputs, seed: seed, progress: progress)
        }
    }
}

/// One request of a pass: its bytes, how it is sent, and what the server must answer.
struct HostileRequest {
    enum Expectation {
        /// 403: another name in `Host`, another site in `Origin`.
        case refused
        /// A 4xx: a path out of the folder, a body over the limit.
        case clientError
        /// Anything but a 500 (a malformed request may also be answered 400 and closed).
        case answered
        /// A 2xx: requests a page of this server sends.
        case success
    }

    let kind: String
    let bytes: [UInt8]
    let expectation: Expectation
    /// Sent in full, then nothing more: the server must close the connection within `--request-time`.
    var stalls = false
}

enum ServerFuzzing {
    /// The server's `--request-time`: a stalled request is cut off after it.
    static let requestSeconds = 1

    static func pass(inputs: Int, seed: UInt64, progress: (@Sendable (Int) -> Void)?) -> FuzzReport {
        let start = DispatchTime.now()
        var accepted = 0, rejected = 0, violations = 0, slowest = 0.0
        var examples: [String] = []
        var peak = 0
        func violated(_ message: String) {
            violations += 1
            if examples.count < 5 { examples.append(message) }
        }
        do {
            let server = try ServerUnderTest(runs: try makeRunsFolder())
            defer { server.stop() }
            var mutator = Mutator(seed: seed)
            for index in 0..<inputs {
                let began = DispatchTime.now()
                do {
                    if mutator.oneIn(25) {
                        try churnEventFollowers(port: server.port, count: 1 + mutator.below(48))
                        accepted += 1
                    } else {
                        let request = makeRequest(&mutator, port: server.port)
                        let status = try send(request, port: server.port)
                        if let status, status < 400 { accepted += 1 } else { rejected += 1 }
                    }
                } catch let violation as FuzzViolation {
                    violated("input \(index): \(violation.message)")
                } catch {
                    violated("input \(index): \(error)")
                }
                slowest = max(slowest, Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9)
                if index % 16 == 15 || index == inputs - 1 {
                    do {
                        peak = try server.checkAlive(bound: FuzzTargets.serverMemoryBound)
                    } catch {
                        violated("after input \(index): \(error)")
                        if !server.isRunning { break }
                    }
                }
                if let progress, inputs >= 10, (index + 1) % (inputs / 10) == 0 { progress(index + 1) }
            }
        } catch {
            violated("the server could not be started: \(error)")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return FuzzReport(target: "serve", inputs: inputs, seeds: 0, accepted: accepted, rejected: rejected, violations: violations,
                          violationExamples: examples, slowest: slowest, seconds: seconds,
                          note: "the server's peak resident memory \(peak >> 20) MB (bound \(FuzzTargets.serverMemoryBound >> 20) MB)")
    }

    // MARK: The requests

    static func makeRequest(_ m: inout Mutator, port: UInt16) -> HostileRequest {
        let me = "127.0.0.1:\(port)"
        func request(_ method: String, _ target: String, host: String? = me, headers: [String] = [], body: [UInt8] = []) -> [UInt8] {
            var head = "\(method) \(target) HTTP/1.1\r\n"
            if let host { head += "Host: \(host)\r\n" }
            head += "Connection: close\r\n"
            for header in headers { head += header + "\r\n" }
            if !body.isEmpty, !headers.contains(where: { $0.hasPrefix("Content-Length") }) { head += "Content-Length: \(body.count)\r\n" }
            return Array((head + "\r\n").utf8) + body
        }
        let routes = ["GET /api/runs", "GET /api/runs/small", "GET /runs/small", "GET /api/events", "GET /files/small/metrics.json",
                      "GET /api/runs/small/curves.svg", "POST /api/predict?run=small"]
        func route() -> (String, String) {
            let parts = m.pick(routes).split(separator: " ")
            return (String(parts[0]), String(parts[1]))
        }
        switch m.below(10) {
        case 0:
            let (method, target) = route()
            return HostileRequest(kind: "mutated request", bytes: m.mutate(request(method, target), seeds: [request("GET", "/")]), expectation: .answered)
        case 1:
            let size = m.pick([8 << 10, 100 << 10, 1 << 20])
            let many = m.oneIn(2)
            let headers = many ? (0..<(size >> 6)).map { "X-\($0): " + String(repeating: "a", count: 50) } : ["X-Big: " + String(repeating: "a", count: size)]
            return HostileRequest(kind: many ? "\(size >> 6) headers" : "a \(size >> 10) kB header", bytes: request("GET", "/api/runs", headers: headers), expectation: .answered)
        case 2:
            let hosts: [String?] = ["evil.example", "evil.example:\(port)", "localhost.:\(port)", "localhost.evil.example:\(port)",
                                    "127.0.0.1.nip.io:\(port)", "evil.example@\(me)", "[::1%25lo]:\(port)", "\(me):80", "127.0.0.2:\(port)",
                                    "0x7f.1:\(port)", "2130706433:\(port)", "[::ffff:127.0.0.1]:\(port)", "", nil]
            let (method, target) = route()
            if m.oneIn(8) {
                // Ours, then another: a browser never sends two; the server answers 400 (RFC 9112).
                return HostileRequest(kind: "two Host headers", bytes: request(method, target, headers: ["Host: evil.example"]), expectation: .clientError)
            }
            let host = m.pick(hosts)
            return HostileRequest(kind: "Host: \(host ?? "(none)")", bytes: request(method, target, host: host, body: method == "POST" ? pgm : []),
                                  expectation: .refused)
        case 3:
            let origins = ["null", "http://127.0.0.1:1", "https://\(me)", "http://evil.example", "http://\(me).evil.example",
                           "http://evil.example@\(me)", "http://\(me)/", "file://", "http://localhost:\(port)", "http://\(me), http://evil.example"]
            let (method, target) = route()
            let origin = m.pick(origins)
            return HostileRequest(kind: "Origin: \(origin)", bytes: request(method, target, headers: ["Origin: \(origin)"], body: method == "POST" ? pgm : []),
                                  expectation: .refused)
        case 4:
            let boundary = m.pick(["x", "", String(repeating: "b", count: 5000), "\"q\""])
            var form = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.pgm\"\r\nContent-Type: image/x-portable-graymap\r\n\r\n".utf8)
                + pgm + Array("\r\n--\(boundary)--\r\n".utf8)
            if m.oneIn(2) { form = m.mutate(form, seeds: [pgm]) }
            return HostileRequest(kind: "multipart", bytes: request("POST", "/api/predict?run=small", headers: ["Content-Type: multipart/form-data; boundary=\(boundary)"], body: form),
                                  expectation: .answered)
        case 5:
            let paths = ["/files/../etc/passwd", "/files/escape/report.html", "/files/trap/report.html", "/api/runs/../../etc/passwd",
                         "/api/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/files/small/..%2f..%2fetc%2fpasswd", "/api/runs/escape",
                         "/files/small/.fashionlab.lock", "/files/small/model.safetensors", "/api/runs/%00", "/runs/small/%2e%2e/%2e%2e/x",
                         "/files/" + Array(repeating: "a", count: 2000).joined(separator: "/") + "/report.html",
                         "/api/runs/" + String(repeating: "%2e", count: 3000)]
            let path = m.pick(paths)
            return HostileRequest(kind: "path \(path.prefix(60))", bytes: request("GET", path), expectation: .clientError)
        case 6:
            if m.oneIn(2) {
                let body = [UInt8](repeating: 0xFF, count: 11 << 20)
                return HostileRequest(kind: "an 11 MB upload", bytes: request("POST", "/api/predict?run=small", body: body), expectation: .clientError)
            }
            return HostileRequest(kind: "an upload announcing 1 GB", bytes: request("POST", "/api/predict?run=small", headers: ["Content-Length: 1000000000"], body: Array(pgm)),
                                  expectation: .clientError)
        case 7:
            var stalled = HostileRequest(kind: "a body that stops", bytes: request("POST", "/api/predict?run=small", headers: ["Content-Length: 100000"], body: Array(pgm.prefix(100))),
                                         expectation: .answered)
            stalled.stalls = m.oneIn(4)  // each costs --request-time
            return stalled
        case 8:
            let targets = ["/api/runs/huge", "/api/runs/huge/curves.svg", "/files/huge/metrics.json", "/api/compare.svg?run=huge&run=small",
                           "/api/runs/broken", "/api/runs/broken/curves.svg", "/runs/huge"]
            return HostileRequest(kind: "the huge run", bytes: request("GET", m.pick(targets)), expectation: .answered)
        default:
            let targets = ["/", "/runs/small", "/api/runs", "/api/runs/small", "/api/runs/small/curves.svg", "/api/runs/small/weights.svg",
                           "/files/small/metrics.json", "/files/lab/index.html", "/compare?run=small", "/predict?run=small", "/assets/app.js"]
            if m.oneIn(3) {
                return HostileRequest(kind: "a prediction", bytes: request("POST", "/api/predict?run=small", headers: ["Origin: http://\(me)"], body: pgm),
                                      expectation: .success)
            }
            return HostileRequest(kind: "a page", bytes: request("GET", m.pick(targets)), expectation: .success)
        }
    }

    /// A 28×28 grey picture as a PGM file: what predict accepts.
    static let pgm: [UInt8] = Array("P5\n28 28\n255\n".utf8) + (0..<784).map { UInt8(truncatingIfNeeded: $0 * 7) }

    /// Sends `request` and checks the answer against its expectation; the status, or nil when the server closed
    /// the connection without one.
    static func send(_ request: HostileRequest, port: UInt16) throws -> Int? {
        let connection = try Connection(port: port)
        defer { connection.close() }
        connection.send(request.bytes)
        if request.stalls {
            let began = Date()
            let (_, closed) = connection.receive(timeout: Double(requestSeconds) + 2, until: { _ in false })
            guard closed else { throw FuzzViolation("\(request.kind): still open \(Int(Date().timeIntervalSince(began))) s after it stopped sending (--request-time \(requestSeconds))") }
            return nil
        }
        let (bytes, _) = connection.receive(timeout: Double(requestSeconds) + 5, until: Response.isComplete)
        guard let response = Response(bytes) else { return nil }
        switch request.expectation {
        case .refused where response.status != 403:
            throw FuzzViolation("\(request.kind): answered \(response.status), not refused")
        case .clientError where !(400..<500).contains(response.status):
            throw FuzzViolation("\(request.kind): answered \(response.status), not a 4xx")
        case .success where !(200..<300).contains(response.status):
            throw FuzzViolation("\(request.kind): answered \(response.status) \(response.text.prefix(120))")
        default:
            break
        }
        if response.status == 500 { throw FuzzViolation("\(request.kind): 500 \(response.text.prefix(120))") }
        if response.status >= 400, !response.body.isEmpty, !response.text.hasPrefix("{\"error\"") {
            throw FuzzViolation("\(request.kind): a \(response.status) whose body is not {\"error\": …}: \(response.text.prefix(80))")
        }
        return response.status
    }

    /// Pages that follow live updates and go away at once, `count` of them (more than the 32 the server follows at
    /// once, sometimes): the next page must be followed within a second.
    static func churnEventFollowers(port: UInt16, count: Int) throws {
        for _ in 0..<count {
            let connection = try Connection(port: port)
            connection.send(Array("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
            _ = connection.receive(timeout: 2) { String(decoding: $0, as: UTF8.self).contains(": connected") || String(decoding: $0, as: UTF8.self).hasPrefix("HTTP/1.1 503") }
            connection.close()
        }
        let deadline = Date().addingTimeInterval(1)
        var last = "no answer"
        repeat {
            let connection = try Connection(port: port)
            connection.send(Array("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
            let (bytes, _) = connection.receive(timeout: 1) { String(decoding: $0, as: UTF8.self).contains(": connected") || Response.isComplete($0) }
            connection.close()
            let text = String(decoding: bytes, as: UTF8.self)
            if text.hasPrefix("HTTP/1.1 200") { return }
            last = String(text.prefix(60))
            usleep(50_000)
        } while Date() < deadline
        throw FuzzViolation("\(count) pages followed live updates and went away; a second later the next is still turned away (\(last))")
    }

    // MARK: The runs folder

    /// A run with a model (an MLP with 16 hidden units), a run whose `metrics.json` is valid and 45 MB, one that is
    /// not JSON, a lab report, a link to /etc and a report that is a link to /etc/passwd.
    static func makeRunsFolder() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fashionlab-fuzz-serve-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        var config = TrainingConfig()
        config.hidden = [16]
        config.epochs = 1
        var history = TrainingHistory(config: config)
        history.epochs = [EpochMetrics(epoch: 1, learningRate: 0.01, trainLoss: 0.6, trainAccuracy: 0.8, validationLoss: 0.6,
                                       validationAccuracy: 0.8, trainSeconds: 1, evaluationSeconds: 0.1)]
        try FileManager.default.createDirectory(atPath: root + "/small", withIntermediateDirectories: true)
        try RunDirectory.save(history: history, model: try config.buildModel(), to: root + "/small")
        history.config.epochs = 240
        history.steps = (1...450_000).map { StepLoss(step: $0, epoch: Double($0) / 1875, loss: 0.5 + Double($0 % 997) / 1e4) }
        try FileManager.default.createDirectory(atPath: root + "/huge", withIntermediateDirectories: true)
        try RunDirectory.saveHistory(history, to: root + "/huge")
        try FileManager.default.createDirectory(atPath: root + "/broken", withIntermediateDirectories: true)
        try Data("{\"config\": {".utf8).write(to: URL(fileURLWithPath: root + "/broken/metrics.json"))
        try FileManager.default.createDirectory(atPath: root + "/lab", withIntermediateDirectories: true)
        try Data("<!DOCTYPE html><title>lab</title>".utf8).write(to: URL(fileURLWithPath: root + "/lab/index.html"))
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "/etc")
        try FileManager.default.createDirectory(atPath: root + "/trap", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/trap/report.html", withDestinationPath: "/etc/passwd")
        return root
    }
}

/// `fashionlab serve --runs DIR --port 0` in its own process, on 127.0.0.1.
final class ServerUnderTest {
    let process = Process()
    let port: UInt16
    private let runs: String

    init(runs: String) throws {
        self.runs = runs
        guard let binary = Self.binary() else {
            throw FuzzViolation("no fashionlab binary beside this program, in $FASHIONLAB_BINARY or in .build/release (swift build -c release --product fashionlab)")
        }
        let log = runs + ".out"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--runs", runs, "--host", "127.0.0.1", "--port", "0", "--request-time", String(ServerFuzzing.requestSeconds)]
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // "Serving the runs under DIR at http://127.0.0.1:PORT/  (Ctrl-C stops)"
        let deadline = Date().addingTimeInterval(60)
        var text = ""
        while Date() < deadline, process.isRunning, !text.contains("(Ctrl-C stops)") {
            usleep(20_000)
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        guard let range = text.range(of: #"http://127\.0\.0\.1:\d+/"#, options: .regularExpression),
              let port = UInt16(text[range].split(separator: ":").last!.dropLast()) else {
            if process.isRunning { process.terminate() }
            throw FuzzViolation("fashionlab serve did not say it listens on 127.0.0.1: \(text)")
        }
        self.port = port
    }

    var isRunning: Bool { process.isRunning }

    /// Checks the server still answers `GET /api/runs` and its peak resident memory is under `bound`; the peak.
    func checkAlive(bound: Int) throws -> Int {
        guard process.isRunning else { throw FuzzViolation("the server ended (status \(process.terminationStatus))") }
        let connection = try Connection(port: port)
        defer { connection.close() }
        connection.send(Array("GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8))
        let (bytes, _) = connection.receive(timeout: 10, until: Response.isComplete)
        guard let response = Response(bytes), response.status == 200 else {
            throw FuzzViolation("GET /api/runs is no longer answered (\(String(decoding: bytes.prefix(60), as: UTF8.self)))")
        }
        let peak = Self.memory("VmHWM", of: process.processIdentifier) ?? 0
        guard peak < bound else { throw FuzzViolation("the server's peak resident memory is \(peak >> 20) MB, over \(bound >> 20) MB") }
        return peak
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: runs)
        try? FileManager.default.removeItem(atPath: runs + ".out")
    }

    /// A line of /proc/PID/status in bytes (`VmRSS`, `VmHWM`).
    static func memory(_ field: String, of pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kilobytes = Int(line.split(separator: " ")[1]) else { return nil }
        return kilobytes << 10
    }

    /// `$FASHIONLAB_BINARY`, `fashionlab` beside this program (as SwiftPM builds them), or `.build/release/fashionlab`.
    static func binary() -> String? {
        var candidates = [ProcessInfo.processInfo.environment["FASHIONLAB_BINARY"]].compactMap { $0 }
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("fashionlab").path)
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/release/fashionlab")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// A TCP connection to 127.0.0.1 that sends bytes as given and reads with a deadline.
struct Connection {
    let descriptor: Int32

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw FuzzViolation("cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
    }

    /// Sends what the server takes (it may close the connection before reading a large body).
    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// What arrives until the server closes, `until` is satisfied or `timeout` passes; whether it closed.
    func receive(timeout: Double, until: ([UInt8]) -> Bool) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count <= 0 { return (received, true) }
            received += buffer[..<count]
            if until(received) { break }
        }
        return (received, false)
    }

    func close() { Glibc.close(descriptor) }
}

/// The status line, head and start of a body, as far as they arrived.
struct Response {
    let status: Int
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }

    init?(_ bytes: [UInt8]) {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let fields = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, let status = Int(fields[1]) else { return nil }
        self.status = status
        var body = Array(bytes[end.upperBound...])
        // A chunked body's first chunk, without its size line.
        if String(decoding: bytes[..<end.lowerBound], as: UTF8.self).lowercased().contains("transfer-encoding: chunked"),
           let line = body.firstRange(of: Array("\r\n".utf8)) {
            body = Array(body[line.upperBound...])
        }
        self.body = body
    }

    /// A whole head, and a body to its Content-Length, its last chunk, or 1 MB of it (the rest is not needed).
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return bytes.count > 1 << 20 }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).lowercased()
        let bodyBytes = bytes.count - end.upperBound
        if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
           let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
            return bodyBytes >= length
        }
        return bytes.suffix(5) == Array("0\r\n\r\n".utf8) || bodyBytes > 1 << 20
    }
}
