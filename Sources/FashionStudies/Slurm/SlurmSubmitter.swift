import FashionCore
import Foundation

/// The two jobs of a submitted study.
public struct SlurmSubmission: Sendable, Equatable {
    /// The job array's id (task N is `ARRAY_N`).
    public let arrayJob: String
    /// The report job's id.
    public let reportJob: String
    /// Where the scripts and the jobs' logs are.
    public let directory: String
    /// The report job's output: what the local command prints, or why it failed.
    public var reportLog: String { directory + "/report-\(reportJob).out" }
}

/// Submits a ``SlurmScript`` with `sbatch` and follows its jobs with `scontrol` (or `sacct`): the only code that
/// runs Slurm's tools. Each is found on `PATH`; one that is missing or fails is a ``SlurmError`` that says so.
public enum SlurmSubmitter {
    /// Writes `runs.sbatch` and `report.sbatch` into `directory` (made if needed) and submits them: the array,
    /// then the report job depending on it (`--dependency=afterany:ARRAY`). When sbatch is missing nothing is
    /// written; when it refuses either job, the scripts are removed and an array already submitted is cancelled,
    /// so a failed submission leaves nothing behind.
    public static func submit(_ script: SlurmScript, directory: String) throws -> SlurmSubmission {
        let sbatch = try tool("sbatch")
        let arrayPath = directory + "/runs.sbatch", reportPath = directory + "/report.sbatch"
        try AtomicFile.write(text: script.array, to: arrayPath)
        try AtomicFile.write(text: script.report, to: reportPath)
        func removeScripts() {
            try? FileManager.default.removeItem(atPath: arrayPath)
            try? FileManager.default.removeItem(atPath: reportPath)
        }
        let arrayJob: String
        do {
            arrayJob = try jobID(run(sbatch, ["--parsable", arrayPath]), what: "the job array")
        } catch {
            removeScripts()
            throw error
        }
        do {
            let reportJob = try jobID(run(sbatch, ["--parsable", "--dependency=afterany:\(arrayJob)", reportPath]), what: "the report job")
            return SlurmSubmission(arrayJob: arrayJob, reportJob: reportJob, directory: directory)
        } catch {
            if let scancel = try? tool("scancel") { _ = try? run(scancel, [arrayJob]) }
            removeScripts()
            throw error
        }
    }

    /// The job's state (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, …), from `scontrol show job`, or from
    /// `sacct` once slurmctld has forgotten the job (after `MinJobAge`, where accounting exists).
    public static func state(of job: String) throws -> String {
        if let scontrol = try? tool("scontrol") {
            let shown = try run(scontrol, ["show", "job", "-o", job])
            if shown.status == 0, let field = shown.output.split(whereSeparator: \.isWhitespace).first(where: { $0.hasPrefix("JobState=") }) {
                return String(field.dropFirst("JobState=".count))
            }
        }
        if let sacct = try? tool("sacct") {
            let shown = try run(sacct, ["-n", "-X", "-P", "-j", job, "-o", "State"])
            if shown.status == 0, let line = shown.output.split(separator: "\n").first,
               let state = line.split(separator: " ").first, !state.isEmpty {
                return String(state)
            }
        }
        throw SlurmError("job \(job) is unknown to scontrol and sacct (slurmctld forgets finished jobs after MinJobAge; without accounting, their end cannot be read)")
    }

    /// States in which a job has ended.
    public static let endedStates: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                                                  "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"]

    /// Waits until `job` has ended and returns its final state, asking every `pollSeconds`; `changed` sees each
    /// new state.
    public static func wait(for job: String, pollSeconds: Double = 2, changed: (String) -> Void = { _ in }) throws -> String {
        var last = ""
        while true {
            let state = try state(of: job)
            if state != last { changed(state); last = state }
            if endedStates.contains(state) { return state }
            Thread.sleep(forTimeInterval: pollSeconds)
        }
    }

    /// The job id in `sbatch --parsable`'s answer (`ID` or `ID;CLUSTER`), or an error that quotes sbatch.
    static func jobID(_ result: ToolResult, what: String) throws -> String {
        guard result.status == 0 else {
            let message = (result.error + result.output).trimmingCharacters(in: .whitespacesAndNewlines)
            throw SlurmError("sbatch refused \(what) (exit status \(result.status)): \(message.isEmpty ? "it printed nothing" : message)")
        }
        let id = result.output.split(separator: "\n").last.map { String($0.split(separator: ";").first ?? "") } ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SlurmError("sbatch submitted \(what) but its answer is not a job id: '\(result.output.trimmingCharacters(in: .whitespacesAndNewlines))'")
        }
        return id
    }

    /// The full path of Slurm's `name` on `PATH`.
    public static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw SlurmError("\(name) was not found on PATH (\(path)): --slurm needs Slurm's commands (sbatch, scontrol), as on a cluster's login node; without Slurm, run the same command without --slurm")
    }

    struct ToolResult {
        let status: Int32
        let output: String
        let error: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw SlurmError("\(executable) could not be started: \(error.localizedDescription)")
        }
        // Both pipes drained before waiting, so a chatty tool never blocks on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
                          error: String(decoding: errData, as: UTF8.self))
    }
}

/// Slurm could not be used: what failed, and sbatch's own words where it refused.
public struct SlurmError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
