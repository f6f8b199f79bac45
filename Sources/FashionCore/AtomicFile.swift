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
        removeLeftovers(in: directory.isEmpty ? "." : directory, of: (path as NSString).lastPathComponent)
        let temporary = path + temporaryMarker + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
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

    /// What follows a file's name in its temporary name, before the writer's process id and a random number.
    static let temporaryMarker = ".tmp-"

    /// Removes the temporary files that writers killed mid-write left in `directory` (all of them, or only
    /// those of the file named `name`): names of the form `NAME.tmp-PID-RANDOM` whose process `PID` is no
    /// longer running. A live writer's temporary file, this process's own among them, is left alone.
    /// Returns the names removed.
    @discardableResult
    public static func removeLeftovers(in directory: String, of name: String? = nil) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed = [String]()
        for entry in entries {
            guard let range = entry.range(of: temporaryMarker, options: .backwards) else { continue }
            if let name, entry[..<range.lowerBound] != name { continue }
            let suffix = entry[range.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
            guard suffix.count == 2, let pid = pid_t(suffix[0]), pid > 0, UInt32(suffix[1]) != nil,
                  pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            if unlink(directory + "/" + entry) == 0 { removed.append(entry) }
        }
        return removed
    }

    private static func systemReason() -> String { String(cString: strerror(errno)) }
}

/// A file that could not be written: which one, and why.
public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): cannot be written (\(reason))" }
}
