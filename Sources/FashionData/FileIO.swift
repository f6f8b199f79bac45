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

    /// Size and modification time in nanoseconds, used to remember verified files.
    static func fingerprint(_ path: String) -> (size: Int, modified: Int)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (Int(info.st_size), Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
    }
}
