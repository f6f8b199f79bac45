import Foundation

/// Small file helpers shared by the data layer.
enum FileIO {
    /// The whole file as bytes; the error names the file.
    static func readBytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        return [UInt8](data)
    }

    /// The whole file as bytes, refused by its size before it is read when it is larger than
    /// `limit` (and read no further than that if it grows meanwhile). `what` names what the limit is.
    static func readBytes(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        var info = stat()
        if stat(path, &info) == 0, Int(info.st_size) > limit {
            throw DataError(path, "is \(info.st_size) bytes, larger than \(what) (\(limit) bytes); refusing to read it")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw DataError(path, "cannot be read (\(error.localizedDescription))")
        }
        guard data.count <= limit else {
            throw DataError(path, "is larger than \(what) (\(limit) bytes); refusing to read it")
        }
        return [UInt8](data)
    }

    /// Size and modification time in nanoseconds, used to remember verified files.
    static func fingerprint(_ path: String) -> (size: Int, modified: Int)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (Int(info.st_size), Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
    }
}
