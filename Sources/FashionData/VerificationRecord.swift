import FashionCore
import Foundation

/// Remembers files whose content SHA-256 was checked, by path, size and modification time,
/// so 55 MB are not hashed again on every run. Kept in the user cache as `verified.tsv`.
struct VerificationRecord {
    let recordPath: String
    private var entries: Set<String> = []
    private var changed = false

    init(cacheDirectory: String) {
        recordPath = cacheDirectory + "/verified.tsv"
        if let text = try? String(contentsOfFile: recordPath, encoding: .utf8) {
            entries = Set(text.split(separator: "\n").map(String.init))
        }
    }

    private static func key(path: String, sha256: String) -> String? {
        guard let print = FileIO.fingerprint(path) else { return nil }
        return "\(sha256)\t\(print.size)\t\(print.modified)\t\(path)"
    }

    func isVerified(path: String, sha256: String) -> Bool {
        Self.key(path: path, sha256: sha256).map(entries.contains) ?? false
    }

    mutating func markVerified(path: String, sha256: String) {
        guard let key = Self.key(path: path, sha256: sha256), !entries.contains(key) else { return }
        entries.insert(key)
        changed = true
    }

    /// Saves the record; failing to save only costs a re-hash next time, so errors are ignored.
    func save() {
        guard changed else { return }
        let directory = (recordPath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let text = entries.sorted().joined(separator: "\n") + "\n"
        try? AtomicFile.write(text: text, to: recordPath)
    }
}
