/// The one check for names that become a file or directory name (a study's name, a run's label, a
/// language code in a file name): judged by Unicode scalar, so no combining mark or other joining scalar
/// can hide a separator inside a grapheme.
///
/// A valid name is not empty, not `.` or `..`, has no `/` or `\`, no control characters (C0, DEL, C1,
/// U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR), does not start with `-` (it would read as a
/// flag in a shell command) or `.` (a hidden file, or an AppleDouble `._` one on macOS), and has at most ``maxScalars`` scalars and ``maxUTF8Bytes`` UTF-8 bytes
/// (file systems limit a name to 255 bytes).
public enum PathName {
    public static let maxScalars = 100
    public static let maxUTF8Bytes = 255

    /// Throws ``InvalidPathName`` naming `what` the name was for and what is wrong with it.
    ///
    /// ```swift
    /// try PathName.validate(study.name, what: "study name")
    /// ```
    public static func validate(_ name: String, what: String) throws {
        if let problem = problem(with: name) { throw InvalidPathName(name: name, what: what, problem: problem) }
    }

    /// What is wrong with `name` as a path component, or nil when nothing is.
    public static func problem(with name: String) -> String? {
        let scalars = name.unicodeScalars
        if scalars.isEmpty { return "it is empty" }
        if name == "." || name == ".." { return "'\(name)' names a directory itself, not a new one" }
        if scalars.first == "-" { return "it starts with '-'" }
        for (index, scalar) in scalars.enumerated() {
            if scalar == "/" || scalar == "\\" { return "it contains '\(scalar)' at scalar \(index)" }
            if isControl(scalar) { return "it contains the control character \(codePoint(scalar)) at scalar \(index)" }
        }
        if scalars.first == "." { return "it starts with '.' (a hidden name)" }
        if scalars.count > maxScalars { return "it has \(scalars.count) characters (Unicode scalars); at most \(maxScalars) are allowed" }
        if name.utf8.count > maxUTF8Bytes { return "it is \(name.utf8.count) bytes in UTF-8; at most \(maxUTF8Bytes) are allowed" }
        return nil
    }

    /// C0 controls, DEL, C1 controls and the Unicode line and paragraph separators.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: true
        default: false
        }
    }

    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

/// A name that cannot become a path component: what it was for, the name (with controls shown as
/// code points) and what was wrong.
public struct InvalidPathName: Error, CustomStringConvertible, Equatable {
    public let name: String
    public let what: String
    public let problem: String
    public var description: String {
        let shown = name.unicodeScalars.map { PathName.isControl($0) ? "<\(PathName.codePoint($0))>" : String($0) }.joined()
        return "\(what) '\(shown)' cannot be used as a file or directory name: \(problem)"
    }
}
