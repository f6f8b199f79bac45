import Foundation

/// The pictures of a folder, as `predict` takes them: its files (not those of its subfolders, not hidden
/// ones) whose name ends in a picture's extension (``ImageFormat/pictureExtensions``, any case, supported
/// or not, so that a HEIC among the JPEGs gets its error), sorted by name.
public struct PictureFolder: Sendable {
    /// Paths of the pictures, sorted by file name.
    public let pictures: [String]
    /// Names of the other files, which are left out.
    public let others: [String]

    /// Lists `path`. - Throws: ``ImageError`` naming the folder when it cannot be read.
    public init(_ path: String) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw ImageError(path, "cannot list this folder (\(error.localizedDescription))")
        }
        var pictures: [String] = [], others: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let full = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if ImageFormat.pictureExtensions.contains((name as NSString).pathExtension.lowercased()) {
                pictures.append(full)
            } else {
                others.append(name)
            }
        }
        self.pictures = pictures
        self.others = others
    }

    /// True when `path` is a folder.
    public static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
