import Foundation
import FashionCore

/// The one way the server reaches a file: the folder given with `--runs`, read-only.
///
/// A path is a list of names, each checked with `PathName` (no `..`, no `/`, no hidden or control-character
/// names). It is opened one component at a time with `openat(…, O_NOFOLLOW)` from the folder's own descriptor,
/// so no symbolic link is followed, anywhere on the way, and nothing outside the folder can be reached even if
/// a directory is swapped for a link while the server reads. Files are opened `O_RDONLY`: the server never
/// creates, changes or locks anything here.
public struct RunsFolder: Sendable {
    /// The folder's real path (symbolic links in the path given on the command line are resolved once, at start).
    public let root: String

    /// The largest file the server reads (a CNN's checkpoint is a few megabytes; a run's metrics far less).
    public static let maxFileBytes = 256 << 20

    public init(_ path: String) throws {
        guard let resolved = realpath(path, nil) else {
            throw ServeError(.badRequest, "--runs \(path): \(String(cString: strerror(errno)))")
        }
        root = String(cString: resolved)
        free(resolved)
        var info = stat()
        guard stat(root, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ServeError(.badRequest, "--runs \(path): not a directory")
        }
    }

    /// The names of a run or report id ("lab/runs/adam-lr0.001-…"), each checked; a 404 names what was wrong.
    public static func components(of id: some StringProtocol) throws -> [String] {
        let names = String(id).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !names.isEmpty, names.count <= maxDepth else { throw ServeError(.notFound, "no such run: '\(id)'") }
        for name in names {
            if let problem = PathName.problem(with: name) { throw ServeError(.notFound, "no such run: '\(id)' (\(problem))") }
        }
        return names
    }

    /// How deep under the folder runs are looked for (a lab's runs are at depth 3: `lab/runs/NAME`).
    public static let maxDepth = 8

    /// A descriptor of the directory at `components` (the root for none), opened without following links.
    /// The caller closes it.
    func openDirectory(_ components: [String]) throws -> Int32 {
        var descriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ServeError(.internalServerError, "the runs folder cannot be opened") }
        for name in components {
            let next = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(descriptor)
            guard next >= 0 else { throw ServeError(.notFound, "no such run: '\(components.joined(separator: "/"))'") }
            descriptor = next
        }
        return descriptor
    }

    /// The regular file `name` in the directory at `components`, opened read-only without following links, and its
    /// size; the caller closes the descriptor. A 404 when there is none (or it is a link, a directory, anything else).
    func openFile(_ components: [String], _ name: String) throws -> (descriptor: Int32, size: Int) {
        let path = (components + [name]).joined(separator: "/")
        guard PathName.problem(with: name) == nil else { throw ServeError(.notFound, "no such file: \(path)") }
        let directory = try openDirectory(components)
        defer { close(directory) }
        let file = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard file >= 0 else { throw ServeError(.notFound, "no such file: \(path)") }
        var info = stat()
        guard fstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(file)
            throw ServeError(.notFound, "no such file: \(path)")
        }
        return (file, Int(info.st_size))
    }

    /// The bytes of the regular file `name` in the directory at `components`. A 404 when there is none (see
    /// `openFile(_:_:)`); a 422 naming the file and the limit when it is larger than `limit`, which is never read.
    public func read(_ components: [String], _ name: String, limit: Int = maxFileBytes) throws -> [UInt8] {
        let (file, size) = try openFile(components, name)
        defer { close(file) }
        guard size <= limit else {
            throw ServeError(.unprocessableContent, "\((components + [name]).joined(separator: "/")) is \(Self.megabytes(size)), more than the \(Self.megabytes(limit)) fashionlab serve reads of it")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(file, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            offset += count
        }
        return offset == bytes.count ? bytes : Array(bytes[..<offset])
    }

    /// A size as a person reads it: "32 MB", "45.2 MB".
    static func megabytes(_ bytes: Int) -> String {
        bytes % (1 << 20) == 0 ? "\(bytes >> 20) MB" : String(format: "%.1f MB", Double(bytes) / Double(1 << 20))
    }

    /// What `lstat` says of `name` in the directory at `components` (links are not followed); nil when absent.
    public func info(_ components: [String], _ name: String) -> stat? {
        guard let directory = try? openDirectory(components) else { return nil }
        defer { close(directory) }
        var info = stat()
        return fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? info : nil
    }

    /// The entries of the directory at `components`: names that pass `PathName` and are directories or regular
    /// files (links and anything else are left out), at most `limit` of them.
    func entries(_ components: [String], limit: Int = 10_000) -> [(name: String, isDirectory: Bool, info: stat)] {
        guard let descriptor = try? openDirectory(components), let directory = fdopendir(descriptor) else { return [] }
        defer { closedir(directory) }
        var found: [(String, Bool, stat)] = []
        while found.count < limit, let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard PathName.problem(with: name) == nil else { continue }
            var info = stat()
            guard fstatat(dirfd(directory), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: found.append((name, true, info))
            case S_IFREG: found.append((name, false, info))
            default: continue
            }
        }
        return found.sorted { $0.0 < $1.0 }
    }
}
