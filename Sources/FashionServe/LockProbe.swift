import Foundation

/// Whether a run is training now: its `.fashionlab.lock` (``FashionCore/DirectoryLock``) is held by a process.
///
/// On Linux the kernel's table of locks, `/proc/locks`, is read and the lock file's device and inode looked up in
/// it: nothing is opened in the run's directory, so a `train --resume` starting at that instant never finds the
/// lock taken by the server. Elsewhere the file is opened read-only (never created, no link followed) and a shared
/// lock tried without waiting and released at once.
enum LockProbe {
    static let lockFile = ".fashionlab.lock"

    /// The flock locks held now, as "major:minor:inode" keys as `/proc/locks` writes them; nil when unreadable.
    static func heldLocks() -> Set<String>? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        var keys = Set<String>()
        // "1: FLOCK  ADVISORY  WRITE 1234 00:2f:5678 0 EOF" (a blocked waiter's line starts "1: -> FLOCK").
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let kind = fields.firstIndex(of: "FLOCK"), fields.count > kind + 4 else { continue }
            if fields[kind - 1] == "->" { continue }
            keys.insert(String(fields[kind + 4]))
        }
        return keys
        #else
        return nil
        #endif
    }

    /// True when the lock file described by `info` is in `held`, or (without the table) when a shared lock on
    /// `path` cannot be had now.
    static func isHeld(_ info: stat, path: String, held: Set<String>?) -> Bool {
        if let held {
            let device = UInt64(info.st_dev)
            let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
            let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
            func hex(_ value: UInt64) -> String { (value < 16 ? "0" : "") + String(value, radix: 16) }
            return held.contains("\(hex(major)):\(hex(minor)):\(UInt64(info.st_ino))")
        }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}
