import Foundation

/// A tiny HTTP/1.1 server on 127.0.0.1 for download tests: each request path maps to a canned
/// response, which may lie about its length (a truncated transfer), omit it, redirect, or misbehave
/// on purpose (an endless body, a byte a second).
public final class LocalHTTPServer: @unchecked Sendable {
    public struct Response: Sendable {
        public enum Behaviour: Sendable {
            /// Sends `body`, then closes.
            case normal
            /// Sends `body`, then `repeating` over and over until the client hangs up.
            case endless(repeating: [UInt8])
            /// Sends `body` one byte every `interval` seconds, then keeps dripping zeros.
            case drip(interval: TimeInterval)
            /// A 302 to `location`.
            case redirect(location: String)
        }
        public var status = 200
        public var body: [UInt8] = []
        /// Content-Length to announce; the connection closes after `body` either way.
        public var announcedLength: Int?
        /// False: no Content-Length header at all (the body ends when the connection closes).
        public var sendsLength = true
        public var behaviour = Behaviour.normal

        public init(status: Int = 200, body: [UInt8] = [], announcedLength: Int? = nil, sendsLength: Bool = true,
                    behaviour: Behaviour = .normal) {
            self.status = status
            self.body = body
            self.announcedLength = announcedLength
            self.sendsLength = sendsLength
            self.behaviour = behaviour
        }
    }

    public let port: UInt16
    private let listener: Int32
    private let routes: [String: Response]
    private let lock = NSLock()
    private var requestCount = 0
    private var bytesSent = 0
    private var stopped = false
    /// Signalled when the accept loop has returned: only then may the listening descriptor be closed.
    private let acceptLoopEnded = DispatchSemaphore(value: 0)

    public init(routes: [String: Response]) throws {
        self.routes = routes
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        self.listener = listener
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    public var baseURL: String { "http://127.0.0.1:\(port)/" }

    public var requests: Int { lock.withLock { requestCount } }

    /// Body bytes written to clients so far.
    public var sent: Int { lock.withLock { bytesSent } }

    /// Stops accepting connections. The listening descriptor is closed only after the accept loop has
    /// returned: closed earlier, its number could be handed to another server's socket in this process,
    /// and the old loop would then accept (and answer 404 to) that server's connections.
    public func stop() {
        let alreadyStopped = lock.withLock { defer { stopped = true }; return stopped }
        guard !alreadyStopped else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        acceptLoopEnded.wait()
        close(listener)
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        defer { acceptLoopEnded.signal() }
        while !isStopped {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            Thread { [self] in handle(connection) }.start()
        }
    }

    private func handle(_ connection: Int32) {
        defer { close(connection) }
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.ends(with: [13, 10, 13, 10]) {
            let n = read(connection, &buffer, buffer.count)
            if n <= 0 { return }
            request += buffer[0..<n]
        }
        lock.withLock { requestCount += 1 }
        let line = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self)
        let path = line.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        var response = routes[path] ?? Response(status: 404, body: Array("not found".utf8))
        var extra = ""
        if case .redirect(let location) = response.behaviour {
            response.status = 302
            extra = "Location: \(location)\r\n"
        }
        let reason = switch response.status { case 200: "OK"; case 302: "Found"; case 404: "Not Found"; default: "Error" }
        let length = response.sendsLength ? "Content-Length: \(response.announcedLength ?? response.body.count)\r\n" : ""
        let header = "HTTP/1.1 \(response.status) \(reason)\r\n\(length)\(extra)Connection: close\r\n\r\n"
        guard send(connection, Array(header.utf8)) else { return }
        switch response.behaviour {
        case .normal, .redirect:
            _ = send(connection, response.body, counted: true)
        case .endless(let repeating):
            guard send(connection, response.body, counted: true) else { return }
            // "Endless" up to a bound: a client that kept reading after it should have stopped shows as
            // `sent` reaching it (a test can check), not as a test process that fills the machine's memory.
            while !isStopped, lock.withLock({ bytesSent }) < Self.endlessBound, send(connection, repeating, counted: true) {}
        case .drip(let interval):
            var index = 0
            while !isStopped {
                let byte: UInt8 = index < response.body.count ? response.body[index] : 0
                guard send(connection, [byte], counted: true) else { return }
                index += 1
                Thread.sleep(forTimeInterval: interval)
            }
        }
    }

    /// Writes all of `bytes`; false once the client has gone (no SIGPIPE: MSG_NOSIGNAL).
    /// The most bytes an `.endless` response sends (64 MiB) before it closes the connection.
    public static let endlessBound = 64 << 20

    private func send(_ connection: Int32, _ bytes: [UInt8], counted: Bool = false) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
            if counted { lock.withLock { bytesSent += n } }
        }
        return true
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
