import Foundation
import FashionCore

/// Output helpers: messages and progress go to standard error, results to standard output.
enum Terminal {
    /// True when standard error is a terminal (progress bars are drawn only then).
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1

    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// A one-line progress bar, redrawn in place: `label [#####.....] 52% detail`.
    static func bar(_ label: String, fraction: Double, detail: String = "") -> String {
        let width = 30
        let filled = max(0, min(width, Int((fraction * Double(width)).rounded())))
        let percent = String(format: "%3d%%", Int((fraction * 100).rounded()))
        return "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(percent) \(detail)\u{1B}[K"
    }

    static func drawBar(_ label: String, fraction: Double, detail: String = "") {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data(bar(label, fraction: fraction, detail: detail).utf8))
    }

    static func endBar() {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// Encodes a value as one line of JSON on standard output.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = NonFiniteJSON.encoder([.sortedKeys])
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Redraws a progress bar at most ten times a second, and only on a terminal.
struct BarThrottle {
    let quiet: Bool
    private var lastDraw = DispatchTime.now()

    init(quiet: Bool) { self.quiet = quiet }

    /// True when a bar should be drawn now (always for the `final` update).
    mutating func ready(final: Bool = false) -> Bool {
        guard !quiet, Terminal.stderrIsTerminal else { return false }
        let now = DispatchTime.now()
        guard final || now.uptimeNanoseconds - lastDraw.uptimeNanoseconds > 100_000_000 else { return false }
        lastDraw = now
        return true
    }
}
