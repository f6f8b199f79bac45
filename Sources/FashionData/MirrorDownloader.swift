import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Called while downloading with the bytes received so far and the total, when the server says it.
public typealias DownloadProgress = @Sendable (_ received: Int64, _ expected: Int64?) -> Void

/// Downloads Fashion-MNIST files from a mirror.
///
/// Each file is streamed to a temporary name in the target directory, checked (HTTP status, length,
/// gzip/IDX structure, SHA-256 of the content) and only then renamed into place, so a failed or
/// interrupted download leaves nothing behind. A lock file serialises processes that download into
/// the same directory at once; the second one finds the file already there.
public struct MirrorDownloader: Sendable {
    /// Base URL; the file name is appended.
    public let mirror: String
    /// Seconds without progress before giving up.
    public var timeout: TimeInterval = 60

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
        let lock = try DirectoryLock(directory: directory)
        defer { lock.release() }

        let destination = directory + "/" + file.name
        if FileManager.default.fileExists(atPath: destination) { return }  // another process finished it

        guard let url = URL(string: mirror + file.name) else {
            throw DataError("$FASHIONLAB_MIRROR", "'\(mirror)' is not a valid URL")
        }
        let temporary = destination + ".part-\(getpid())"
        defer { unlink(temporary) }
        try fetch(url, to: temporary, progress: progress)

        let bytes = try FileIO.readBytes(temporary)
        let raw: [UInt8]
        do {
            raw = try Gzip.decompress(bytes, name: url.absoluteString, limit: file.decompressedSize + 1)
            _ = try IDX.parseRaw(raw, name: url.absoluteString, expectedMagic: file.magic)
        } catch let error as DataError {
            throw DataError(url.absoluteString, "downloaded file is invalid: \(error.message)")
        }
        try FashionMNISTLoader.verify(raw, as: file, path: url.absoluteString)
        guard rename(temporary, destination) == 0 else {
            throw DataError(destination, "cannot be written (\(String(cString: strerror(errno))))")
        }
    }

    /// Streams `url` to `path`, checking the status code and the length.
    private func fetch(_ url: URL, to path: String, progress: DownloadProgress?) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw DataError(path, "cannot be written (\(String(cString: strerror(errno))))")
        }
        defer { try? handle.close() }
        let receiver = StreamingReceiver(handle: handle, progress: progress)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: url).resume()
        receiver.done.wait()

        let outcome = receiver.outcome()
        let source = url.absoluteString
        if let status = outcome.status, status != 200 {
            throw DataError(source, "HTTP \(status) \(HTTPURLResponse.localizedString(forStatusCode: status))")
        }
        if let expected = outcome.expected, outcome.received > 0, outcome.received < expected {
            throw DataError(source, "download truncated: received \(outcome.received) of \(expected) bytes")
        }
        if let error = outcome.error {
            throw DataError(source, describe(error))
        }
        if let writeError = outcome.writeError {
            throw DataError(path, "cannot be written (\(writeError))")
        }
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
        default:
            return "download failed (\(urlError.localizedDescription))"
        }
    }
}

/// Receives a response body chunk by chunk and appends it to a file.
private final class StreamingReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Outcome {
        var status: Int?
        var expected: Int64?
        var received: Int64 = 0
        var error: Error?
        var writeError: String?
    }

    let done = DispatchSemaphore(value: 0)
    private let handle: FileHandle
    private let progress: DownloadProgress?
    private let lock = NSLock()
    private var state = Outcome()

    init(handle: FileHandle, progress: DownloadProgress?) {
        self.handle = handle
        self.progress = progress
    }

    func outcome() -> Outcome { lock.withLock { state } }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 200
        lock.withLock {
            state.status = status
            state.expected = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        }
        completionHandler(status == 200 ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let (received, expected): (Int64, Int64?) = lock.withLock {
            do {
                try handle.write(contentsOf: data)
            } catch {
                state.writeError = error.localizedDescription
                dataTask.cancel()
            }
            state.received += Int64(data.count)
            return (state.received, state.expected)
        }
        progress?(received, expected)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.withLock {
            // A cancel we asked for (bad status, write error) is reported by its own cause.
            if let error, (error as? URLError)?.code != .cancelled { state.error = error }
        }
        done.signal()
    }
}

/// An exclusive `flock` on `directory/.fashionlab-download.lock`, held while downloading.
private struct DirectoryLock {
    let descriptor: Int32

    init(directory: String) throws {
        let path = directory + "/.fashionlab-download.lock"
        descriptor = open(path, O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else {
            throw DataError(path, "cannot be created (\(String(cString: strerror(errno))))")
        }
        flock(descriptor, LOCK_EX)
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
