import Foundation

/// Where the tests put the files they write: one directory per test process under the system's temporary
/// directory, removed with everything in it when the process exits, so that a test run leaves nothing behind
/// (a run once left ≈ 250 MB of checkpoints, dataset copies and reports in /tmp).
public enum TestFiles {
    /// This process's directory, made on first use.
    public static let root: String = {
        let path = NSTemporaryDirectory() + "fashionlab-tests-\(getpid())-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { TestFiles.removeRoot() }
        return path
    }()

    /// A path under `root` that nothing uses yet, for a file or directory the code under test makes.
    public static func newPath(_ label: String, extension pathExtension: String? = nil) -> String {
        root + "/" + label + "-" + UUID().uuidString + (pathExtension.map { "." + $0 } ?? "")
    }

    /// A fresh empty directory under `root`.
    public static func newDirectory(_ label: String) -> String {
        let path = newPath(label)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static func removeRoot() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
