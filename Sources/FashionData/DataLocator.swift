import Foundation

/// Finds the Fashion-MNIST files. A directory the user names — `--data DIR`, else `$FASHIONLAB_DATA` — is the
/// only one searched, and where missing files are downloaded: a copy elsewhere never stands in for a file
/// missing there. Without one: the user cache (`$XDG_CACHE_HOME/fashionlab` or `~/.cache/fashionlab`), then
/// `/usr/share/datasets/fashion-mnist` (Debian's `dataset-fashion-mnist`).
public struct DataLocator: Sendable {
    /// A directory that may hold the data, and why it is searched.
    public struct Candidate: Sendable, Equatable {
        public let directory: String
        /// Where the directory came from: "--data", "$FASHIONLAB_DATA", "user cache" or "system".
        public let origin: String
    }

    /// The directory given with `--data`, if any.
    public var explicitDirectory: String?
    public var environment: [String: String]
    /// The system-wide location (Debian's `dataset-fashion-mnist`).
    public var systemDirectory = "/usr/share/datasets/fashion-mnist"

    /// `$FASHIONLAB_SYSTEM_DATA` replaces the system-wide location; set to an empty string it turns that
    /// search off (a machine with Debian's package that should use or download its own copy).
    public init(explicitDirectory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.explicitDirectory = explicitDirectory
        self.environment = environment
        if let system = environment["FASHIONLAB_SYSTEM_DATA"] { systemDirectory = system }
    }

    /// FashionLab's user cache: `$XDG_CACHE_HOME/fashionlab` or `~/.cache/fashionlab`.
    public var cacheDirectory: String {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/fashionlab" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/fashionlab"
    }

    /// The directory the user named: `--data`, else `$FASHIONLAB_DATA`; nil when neither is set.
    public var namedDirectory: Candidate? {
        if let explicitDirectory { return Candidate(directory: explicitDirectory, origin: "--data") }
        if let fromEnvironment = environment["FASHIONLAB_DATA"], !fromEnvironment.isEmpty {
            return Candidate(directory: fromEnvironment, origin: "$FASHIONLAB_DATA")
        }
        return nil
    }

    /// The directories searched, in order: the named one alone, or the cache and the system location.
    public var candidates: [Candidate] {
        if let namedDirectory { return [namedDirectory] }
        var list = [Candidate(directory: cacheDirectory, origin: "user cache")]
        if !systemDirectory.isEmpty { list.append(Candidate(directory: systemDirectory, origin: "system")) }
        return list
    }

    /// Where a download goes when no candidate holds the data: the named directory, else the user cache.
    public var downloadDirectory: String { namedDirectory?.directory ?? cacheDirectory }

    /// The files missing from `directory`.
    public static func missingFiles(in directory: String) -> [FashionMNIST.File] {
        FashionMNIST.files.filter { path(of: $0, in: directory) == nil }
    }

    /// The first candidate that holds all four files, or nil.
    /// - Throws: when `--data` names a directory that does not exist.
    public func locate() throws -> Candidate? {
        if let explicitDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: explicitDirectory, isDirectory: &isDirectory) else {
                throw DataError("--data \(explicitDirectory)", "directory does not exist")
            }
            guard isDirectory.boolValue else {
                throw DataError("--data \(explicitDirectory)", "is a file, not a directory")
            }
        }
        return candidates.first { candidate in
            FashionMNIST.files.allSatisfy { Self.path(of: $0, in: candidate.directory) != nil }
        }
    }

    /// The path of `file` in `directory`: the `.gz` name, or the uncompressed name; nil when neither exists.
    public static func path(of file: FashionMNIST.File, in directory: String) -> String? {
        for name in [file.name, file.uncompressedName] {
            let path = directory + "/" + name
            if FileManager.default.isReadableFile(atPath: path) { return path }
        }
        return nil
    }
}
