import Foundation

/// An exclusive lock on a directory (`flock` on `DIR/.fashionlab.lock`), so two FashionLab processes
/// never write the same run at once. Released when the process ends, however it ends.
public final class DirectoryLock {
    private let descriptor: Int32
    public let directory: String

    /// Takes the lock; with `wait: false`, throws at once when another process holds it.
    public init(directory: String, wait: Bool) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: directory, reason: "cannot create directory (\(error.localizedDescription))")
        }
        let path = directory + "/.fashionlab.lock"
        descriptor = open(path, O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        if flock(descriptor, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 {
            close(descriptor)
            throw DirectoryBusy(directory: directory)
        }
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
