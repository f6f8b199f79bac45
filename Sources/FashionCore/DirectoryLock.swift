import Foundation

/// An exclusive lock on a directory (`flock` on `DIR/.fashionlab.lock`), so two FashionLab processes
/// never write the same run at once. Released when the process ends, however it ends. Taking it removes
/// what a writer killed mid-write left in the directory (``AtomicFile/removeLeftovers(in:of:)``).
///
/// The lock file is opened with `O_NOFOLLOW`: a symbolic link planted at the lock's path (pointing at a
/// file of someone else's, to be created or truncated) is refused, never followed.
public final class DirectoryLock {
    private let descriptor: Int32
    public let directory: String

    /// Takes the lock; with `wait: false`, throws at once when another process holds it.
    /// `name` is the lock file's name inside `directory`.
    public init(directory: String, wait: Bool, name: String = ".fashionlab.lock") throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: directory, reason: "cannot create directory (\(error.localizedDescription))")
        }
        let path = directory + "/" + name
        descriptor = try Self.openLockFile(path)
        if flock(descriptor, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 {
            close(descriptor)
            throw DirectoryBusy(directory: directory)
        }
        AtomicFile.removeLeftovers(in: directory)
    }

    /// Opens (creating when needed) a regular lock file, refusing a symbolic link or anything not a
    /// regular file at `path`.
    static func openLockFile(_ path: String) throws -> Int32 {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o644)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            let reason = errno
            var info = stat()
            if reason == ELOOP || (lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK) {
                throw FileWriteError(path: path, reason: "the lock file is a symbolic link; refusing to follow it (remove it)")
            }
            throw FileWriteError(path: path, reason: String(cString: strerror(reason)))
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw FileWriteError(path: path, reason: "the lock file is not a regular file; refusing to use it")
        }
        return descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// Another FashionLab process is writing into this directory.
public struct DirectoryBusy: Error, CustomStringConvertible {
    public let directory: String
    public var description: String { "\(directory): another FashionLab process is writing this run; wait for it, or choose another --out" }
}
