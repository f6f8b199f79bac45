import Foundation

/// Writing files so that a killed process never leaves a half-written one: the bytes go to a
/// temporary name in the same directory, are flushed, and the file is renamed into place.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically, creating the parent directory if needed.
    /// - Throws: `FileWriteError` naming the path and the system's reason.
    public static func write(_ bytes: some Collection<UInt8>, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw FileWriteError(path: directory, reason: "cannot create directory (\(error.localizedDescription))")
            }
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: systemReason()) }
        var failure: String?
        let contiguous = Array(bytes)
        contiguous.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = systemReason(); return
                }
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = systemReason() }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = systemReason() }
        if let failure {
            unlink(temporary)
            throw FileWriteError(path: path, reason: failure)
        }
    }

    /// Writes UTF-8 text atomically.
    public static func write(text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    private static func systemReason() -> String { String(cString: strerror(errno)) }
}

/// A file that could not be written: which one, and why.
public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): cannot be written (\(reason))" }
}
