import Foundation

/// The Python that runs the real consumers of what FashionLab exports (onnxruntime, ONNX's checker, TensorBoard's
/// reader, PyTorch): `$FASHIONLAB_PYTHON` when set, else the repository's `.venv`, which `.ci/run` makes and fills.
///
/// A test that needs a consumer asks for it by module, as a trait, so that a machine without it says why the test
/// did not run instead of failing on a missing program:
///
/// ```swift
/// @Test(.enabled(if: ConsumerPython.has("onnxruntime"), Comment(rawValue: ConsumerPython.missing("onnxruntime"))))
/// ```
public enum ConsumerPython {
    /// The repository's root (this file is `Tests/FashionTestSupport/ConsumerPython.swift`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The interpreter's path, when there is one.
    public static let path: String? = {
        if let given = ProcessInfo.processInfo.environment["FASHIONLAB_PYTHON"], !given.isEmpty { return given }
        let venv = repositoryRoot + "/.venv/bin/python3"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }()

    /// Whether the interpreter exists and imports every one of `modules`.
    public static func has(_ modules: String...) -> Bool {
        guard path != nil else { return false }
        return (try? run(["-c", modules.map { "import \($0)" }.joined(separator: "; ")]))?.status == 0
    }

    /// Why a test that needs `modules` is skipped.
    public static func missing(_ modules: String...) -> String {
        "needs Python with \(modules.joined(separator: ", ")) ($FASHIONLAB_PYTHON or .venv, which .ci/run installs)"
    }

    /// Runs the interpreter with `arguments` and returns its exit status and what it printed (standard output and
    /// standard error together).
    public static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let path else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "python3"]) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
