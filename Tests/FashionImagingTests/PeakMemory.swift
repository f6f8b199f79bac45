import Foundation
import FashionTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The `fashionlab` binary built beside this test bundle (`swift test` builds every product), or the one
/// `$FASHIONLAB_BINARY` names (another build's, to compare).
let fashionlabBinary: String = {
    if let path = ProcessInfo.processInfo.environment["FASHIONLAB_BINARY"] { return path }
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return here.appendingPathComponent("fashionlab").path
}()

/// A program run to its end in a child process, and the most memory it held.
enum PeakMemory {
    struct Result {
        let status: Int32
        /// The child's peak resident set, from the kernel (`wait4`'s `ru_maxrss`: this child's alone).
        let peakBytes: Int
        let standardError: String
    }

    /// Runs `executable` with `arguments`, standard input and output on /dev/null, standard error kept. A child
    /// killed by a signal has status 128 + the signal, as a shell says.
    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let errorPath = TestFiles.newPath("stderr", extension: "txt")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: executable]) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
        }
        let signal = status & 0x7F
        return Result(status: signal == 0 ? (status >> 8) & 0xFF : 128 + signal, peakBytes: Int(usage.ru_maxrss) * 1024,
                      standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    }
}
