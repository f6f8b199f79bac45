import FashionCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Called while downloading with the bytes received so far and the total, when the server says it.
public typealias DownloadProgress = @Sendable (_ received: Int64, _ expected: Int64?) -> Void

/// Downloads Fashion-MNIST files from a mirror.
///
/// Each file is streamed to a temporary name in the target directory (`NAME.part-PID`) while it is
/// decompressed and hashed on the fly; it is renamed into place only when the HTTP status, the length,
/// the gzip structure, the IDX magic number, the decompressed size and the SHA-256 of the content all
/// check out, so a failed or interrupted download leaves nothing behind. A lock file
/// (`.fashionlab-download.lock`, left in place) serialises processes that download into the same
/// directory at once; the second one finds the file already there.
///
/// A download is bounded the way curl's options bound one (``Limits``): a size cap from the catalogue
/// (`--max-filesize`), an overall deadline (`--max-time`), a minimum speed over a window
/// (`--speed-limit` / `--speed-time`) and at most 5 redirects (`--max-redirs`), to http or https only.
/// Ctrl-C or SIGTERM during a download stops it and removes the partial file.
public struct MirrorDownloader: Sendable {
    /// What bounds one file's download.
    public struct Limits: Sendable {
        /// Seconds the whole transfer of one file may take (curl's `--max-time`).
        public var deadline: TimeInterval = 600
        /// Bytes per second below which, averaged over `speedTime`, the transfer is abandoned
        /// (curl's `--speed-limit`).
        public var speedLimit: Double = 1024
        /// The window over which the speed is measured (curl's `--speed-time`).
        public var speedTime: TimeInterval = 30
        /// Redirects followed before giving up (curl's `--max-redirs`).
        public var maxRedirects = 5
        /// The largest body accepted; nil: the catalogue's `maxDownloadSize` for the file.
        public var maxBytes: Int?

        public init() {}
    }

    /// Base URL; the file name is appended.
    public let mirror: String
    /// Seconds without any data before giving up.
    public var timeout: TimeInterval = 60
    public var limits = Limits()

    public init(mirror: String) {
        self.mirror = mirror.hasSuffix("/") ? mirror : mirror + "/"
    }

    /// Downloads and verifies `file` into `directory` (created if needed).
    public func download(_ file: FashionMNIST.File, into directory: String, progress: DownloadProgress? = nil) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError(directory, "cannot create the download directory (\(error.localizedDescription))")
        }
        let lock: DirectoryLock
        do {
            lock = try DirectoryLock(directory: directory, wait: true, name: ".fashionlab-download.lock")
        } catch let error as FileWriteError {
            throw DataError(error.path, error.reason)
        }
        defer { withExtendedLifetime(lock) {} }

        let destination = directory + "/" + file.name
        if FileManager.default.fileExists(atPath: destination) { return }  // another process finished it

        guard let url = URL(string: mirror + file.name), ["http", "https"].contains(url.scheme?.lowercased() ?? "") else {
            throw DataError("$FASHIONLAB_MIRROR", "'\(mirror)' is not a valid http or https URL")
        }
        let temporary = destination + ".part-\(getpid())"
        defer { unlink(temporary) }
        try Interruption.whileHandling {
            try fetch(url, file: file, to: temporary, progress: progress)
        }
        guard rename(temporary, destination) == 0 else {
            throw DataError(destination, "cannot be written (\(String(cString: strerror(errno))))")
        }
    }

    /// Streams `url` to `path`, decompressing and hashing as it arrives, within the limits.
    private func fetch(_ url: URL, file: FashionMNIST.File, to path: String, progress: DownloadProgress?) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DataError(path, "cannot be written (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        let source = url.absoluteString
        let cap = limits.maxBytes ?? file.maxDownloadSize
        let receiver = try StreamingReceiver(descriptor: descriptor, file: file, source: source, cap: cap,
                                             maxRedirects: limits.maxRedirects, progress: progress)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = limits.deadline + 5  // our own check comes first
        configuration.urlCache = nil
        let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: nil)
        defer { session.invalidateAndCancel() }
        let task = session.dataTask(with: url)
        task.resume()

        // Poll: the deadline, the speed over the last window and Ctrl-C are checked here, not in the
        // signal handler (which only sets a flag).
        let start = Date()
        var windowStart = start, windowBytes: Int64 = 0
        var stopped: String?
        while receiver.done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            let now = Date()
            let received = receiver.outcome().received
            if Interruption.requested {
                stopped = "download interrupted (SIGINT or SIGTERM); the partial file was removed"
            } else if now.timeIntervalSince(start) > limits.deadline {
                stopped = "download took longer than \(Self.seconds(limits.deadline)) s (received \(received) bytes); giving up"
            } else if now.timeIntervalSince(windowStart) >= limits.speedTime {
                let speed = Double(received - windowBytes) / now.timeIntervalSince(windowStart)
                if speed < limits.speedLimit {
                    stopped = "download too slow: \(String(format: speed < 10 ? "%.1f" : "%.0f", speed)) bytes/s over the last \(Self.seconds(limits.speedTime)) s, below the minimum of \(String(format: "%.0f", limits.speedLimit)) bytes/s; giving up"
                }
                windowStart = now
                windowBytes = received
            }
            if let stopped {
                receiver.stop(stopped)
                task.cancel()
                // The cancelled task reports back promptly; do not wait on a wedged one for ever.
                // (Once stopped, the receiver writes nothing more, so the file may be closed after this.)
                _ = receiver.done.wait(timeout: .now() + 2)
                break
            }
        }

        let outcome = receiver.outcome()
        if Interruption.requested, outcome.failure != nil { throw DownloadInterrupted(source: source) }
        if let failure = outcome.failure { throw DataError(source, failure) }
        if let status = outcome.status, status != 200 {
            throw DataError(source, "HTTP \(status) \(HTTPURLResponse.localizedString(forStatusCode: status))")
        }
        if let expected = outcome.expected, outcome.received > 0, outcome.received < expected {
            throw DataError(source, "download truncated: received \(outcome.received) of \(expected) bytes")
        }
        if let error = outcome.error { throw DataError(source, describe(error)) }
        if let writeError = outcome.writeError { throw DataError(path, "cannot be written (\(writeError))") }
        try receiver.finish()
        guard fsync(descriptor) == 0 else { throw DataError(path, "cannot be written (\(String(cString: strerror(errno))))") }
    }

    private static func seconds(_ value: TimeInterval) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    private func describe(_ error: Error) -> String {
        guard let urlError = error as? URLError else { return "download failed (\(error.localizedDescription))" }
        switch urlError.code {
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet:
            return "host unreachable (\(urlError.localizedDescription))"
        case .timedOut:
            return "timed out after \(Int(timeout)) s without data"
        case .networkConnectionLost:
            return "connection lost during the download"
        case .httpTooManyRedirects:
            return "more than \(limits.maxRedirects) redirects"
        default:
            return "download failed (\(urlError.localizedDescription))"
        }
    }
}

/// Receives a response body chunk by chunk: appends it to the file, inflates it, hashes what it
/// inflates to, and stops the transfer at the first thing wrong.
private final class StreamingReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Outcome {
        var status: Int?
        var expected: Int64?
        var received: Int64 = 0
        var error: Error?
        var writeError: String?
        /// Why we stopped the transfer ourselves (a limit, bad content, Ctrl-C), reported first.
        var failure: String?
    }

    let done = DispatchSemaphore(value: 0)
    private let descriptor: Int32
    private let file: FashionMNIST.File
    private let cap: Int
    private let maxRedirects: Int
    private let progress: DownloadProgress?
    private let lock = NSLock()
    private var state = Outcome()
    private var redirects = 0
    private let inflater: GzipStreamInflater
    private var hasher = SHA256()
    private var header: [UInt8] = []

    init(descriptor: Int32, file: FashionMNIST.File, source: String, cap: Int, maxRedirects: Int,
         progress: DownloadProgress?) throws {
        self.descriptor = descriptor
        self.file = file
        self.cap = cap
        self.maxRedirects = maxRedirects
        self.progress = progress
        inflater = try GzipStreamInflater(name: source)
    }

    func outcome() -> Outcome { lock.withLock { state } }

    /// Records why the transfer is being stopped (the first reason wins).
    func stop(_ reason: String) { lock.withLock { if state.failure == nil { state.failure = reason } } }

    /// The checks that need the whole body: the gzip stream ended, the size and the SHA-256.
    func finish() throws {
        try lock.withLock {
            do {
                try inflater.finish()
            } catch let error as DataError {
                throw DataError(error.subject, "downloaded file is invalid: \(error.message)")
            }
            guard inflater.produced == file.decompressedSize else {
                throw DataError(error: "downloaded file is invalid: decompressed size is \(inflater.produced) bytes, expected \(file.decompressedSize) for \(file.name)", inflater)
            }
            let digest = hasher.finalizeHex()
            guard digest == file.sha256 else {
                throw DataError(error: "checksum mismatch: SHA-256 of the decompressed content is \(digest), expected \(file.sha256) (the file is corrupt or not Fashion-MNIST's \(file.name))", inflater)
            }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        let refusal: String? = lock.withLock {
            redirects += 1
            if redirects > maxRedirects { return "more than \(maxRedirects) redirects (the last to \(request.url?.absoluteString ?? "?")); giving up" }
            let scheme = request.url?.scheme?.lowercased() ?? ""
            if scheme != "http" && scheme != "https" { return "redirected to '\(request.url?.absoluteString ?? "?")', which is not http or https; refusing" }
            return nil
        }
        if let refusal {
            stop(refusal)
            completionHandler(nil)
            task.cancel()
        } else {
            completionHandler(request)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 200
        let expected = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        lock.withLock {
            state.status = status
            state.expected = expected
        }
        // Foundation may follow a redirect to another scheme without asking the delegate: whatever
        // answered must still be http or https.
        let scheme = response.url?.scheme?.lowercased() ?? ""
        if scheme != "http" && scheme != "https" {
            stop("redirected to '\(response.url?.absoluteString ?? "?")', which is not http or https; refusing")
            completionHandler(.cancel)
            dataTask.cancel()  // FoundationNetworking may go on reading after a .cancel disposition
            return
        }
        if status == 200, let expected, expected > Int64(cap) {
            stop("the server announces \(expected) bytes, more than the \(cap) a gzip of \(file.name) can take (\(file.decompressedSize) bytes decompressed); refusing")
            completionHandler(.cancel)
            dataTask.cancel()
            return
        }
        completionHandler(status == 200 ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let (received, expected, ok): (Int64, Int64?, Bool) = lock.withLock {
            // Nothing after a refusal, and nothing of a response that is not the file (an error page).
            guard state.failure == nil, state.writeError == nil, state.status == nil || state.status == 200 else {
                return (state.received, state.expected, false)
            }
            state.received += Int64(data.count)
            if state.received > Int64(cap) {
                state.failure = "the body is longer than the \(cap) bytes a gzip of \(file.name) can take (\(file.decompressedSize) bytes decompressed); stopped reading"
                return (state.received, state.expected, false)
            }
            do {
                try data.withUnsafeBytes { bytes in
                    try write(bytes)
                    try inflater.feed(bytes) { piece in
                        if header.count < 4 {
                            header += piece.prefix(4 - header.count)
                            if header.count == 4 {
                                let magic = UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3])
                                guard magic == file.magic else {
                                    throw DataError(file.name, "wrong IDX magic number 0x\(String(magic, radix: 16)), expected 0x\(String(file.magic, radix: 16))")
                                }
                            }
                        }
                        guard inflater.produced <= file.decompressedSize else {
                            throw DataError(file.name, "decompresses to more than the \(file.decompressedSize) bytes of \(file.name)")
                        }
                        hasher.update(Array(piece))
                    }
                }
            } catch let error as DataError {
                state.failure = "downloaded file is invalid: \(error.message)"
            } catch {
                state.writeError = "\(error)"
            }
            return (state.received, state.expected, state.failure == nil && state.writeError == nil)
        }
        guard ok else {
            dataTask.cancel()
            return
        }
        progress?(received, expected)
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw WriteFailure(reason: String(cString: strerror(errno)))
            }
            offset += written
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.withLock {
            // A cancel we asked for (bad status, a limit, write error) is reported by its own cause.
            if let error, (error as? URLError)?.code != .cancelled { state.error = error }
        }
        done.signal()
    }
}

private struct WriteFailure: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

private extension DataError {
    init(error message: String, _ inflater: GzipStreamInflater) {
        self.init(inflater.name, message)
    }
}
