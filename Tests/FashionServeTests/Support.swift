import Foundation
import FashionTestSupport

/// The `fashionlab` binary built beside this test bundle.
let fashionlabBinary: String = {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return here.appendingPathComponent("fashionlab").path
}()

let dataDirectory = "/usr/share/datasets/fashion-mnist"
let dataAvailable = FileManager.default.fileExists(atPath: dataDirectory + "/t10k-images-idx3-ubyte.gz")
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// Runs `fashionlab` to its end (a quick training) and returns its exit status.
@discardableResult
func runFashionlab(_ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: fashionlabBinary)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// A quick run under `directory/name` (200 training images, 8 hidden units, `epochs` epochs).
func quickRun(in directory: String, name: String, epochs: Int = 1) throws {
    let status = try runFashionlab(["train", "--subset", "200", "--hidden", "8", "--epochs", String(epochs), "--quiet",
                                    "--data", dataDirectory, "--out", directory + "/" + name])
    precondition(status == 0, "fashionlab train failed")
}

/// `fashionlab serve` in its own process on a free loopback port, stopped (SIGTERM, then SIGKILL) by ``stop()``.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: UInt16
    let address: String
    private let output = Pipe()

    init(runs: String, extra: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: fashionlabBinary)
        process.arguments = ["serve", "--runs", runs, "--port", "0", "--data", dataDirectory] + extra
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        Self.started(process.processIdentifier)
        // "Serving the runs under DIR at http://127.0.0.1:PORT/  (Ctrl-C stops)": the address bound, whatever --host said.
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while !text.contains("(Ctrl-C stops)"), Date() < deadline, process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"http://[^ /]+:(\d+)/"#, options: .regularExpression),
              let port = UInt16(text[range].split(separator: ":").last!.dropLast()) else {
            process.terminate()
            throw ServeTestError("fashionlab serve did not say where it listens: \(text)")
        }
        self.port = port
        address = String(text[range])
    }

    var isRunning: Bool { process.isRunning }

    /// The server's peak resident memory so far (`VmHWM` in /proc), in bytes.
    var peakMemory: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else { return nil }
        return kilobytes << 10
    }

    /// Stops the server; true when it ended on SIGTERM by itself (not killed, not crashed before).
    @discardableResult
    func stop() -> Bool {
        guard process.isRunning else { return false }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return false }
        return true
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// Servers still running when the test process exits (a shared one lives as long as the process) are killed
    /// then, so a test run leaves no server behind.
    private nonisolated(unsafe) static var running: [pid_t] = []
    private static let lock = NSLock()
    private static func started(_ pid: pid_t) {
        let first = lock.withLock { running.append(pid); return running.count == 1 }
        if first { atexit { ServeProcess.lock.withLock { for pid in ServeProcess.running { kill(pid, SIGKILL) } } } }
    }
}

struct ServeTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What came back from a request written byte for byte.
struct RawResponse {
    let status: Int
    let head: String
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? {
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }
}

/// An HTTP/1.1 client over a plain socket: it sends exactly the bytes given (a path with `..` is not tidied up,
/// a body can be cut short), and reads until the server closes or `timeout` passes.
enum RawHTTP {
    /// Opens a connection to 127.0.0.1:`port`; -1 on failure.
    static func connect(port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { close(fd); return -1 }
        return fd
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Everything the server sends until it closes, or until `timeout`; `until` stops early once the bytes so far
    /// satisfy it.
    static func receive(_ fd: Int32, timeout: Double, until: (([UInt8]) -> Bool)? = nil) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            if ready <= 0 { break }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count <= 0 { return (received, true) }
            received += buffer[..<count]
            if let until, until(received) { break }
        }
        return (received, false)
    }

    /// True once `bytes` hold a whole response with a Content-Length (a server that keeps the connection open,
    /// as chromedriver does, is not waited for).
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)), let response = parse(Array(bytes[..<end.upperBound])),
              let length = response.header("content-length").flatMap({ Int($0) }) else { return false }
        return bytes.count - end.upperBound >= length
    }

    static func parse(_ bytes: [UInt8]) -> RawResponse? {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        let fields = head.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, let status = Int(fields[1]) else { return nil }
        var body = Array(bytes[end.upperBound...])
        let response = RawResponse(status: status, head: head, body: body)
        if response.header("transfer-encoding")?.lowercased() == "chunked" { body = dechunk(body) }
        return RawResponse(status: status, head: head, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], index = 0
        while let lineEnd = bytes[index...].firstRange(of: Array("\r\n".utf8)),
              let size = Int(String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self), radix: 16), size > 0,
              lineEnd.upperBound + size <= bytes.count {
            out += bytes[lineEnd.upperBound..<(lineEnd.upperBound + size)]
            index = lineEnd.upperBound + size + 2
            if index >= bytes.count { break }
        }
        return out
    }

    /// One request with `Connection: close`; nil when the server closed without answering.
    /// `host` is the `Host` header's value (127.0.0.1:`port` when nil).
    static func request(port: UInt16, _ method: String, _ target: String, body: [UInt8]? = nil,
                        headers: [String] = [], host: String? = nil, timeout: Double = 30) -> RawResponse? {
        let fd = connect(port: port)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        if let body, !headers.contains(where: { $0.lowercased().hasPrefix("content-length") }) { head += "Content-Length: \(body.count)\r\n" }
        send(fd, Array((head + "\r\n").utf8) + (body ?? []))
        return parse(receive(fd, timeout: timeout, until: isComplete).bytes)
    }

    static func get(_ port: UInt16, _ target: String) -> RawResponse? { request(port: port, "GET", target) }
}

extension RawResponse {
    /// The body as JSON.
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
}
