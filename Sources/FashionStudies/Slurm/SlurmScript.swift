/// The two sbatch scripts of a study on a cluster: a job array with one task per distinct run
/// (``ClusterRuns``), and the report job that runs when the array has ended.
///
/// Each task runs the same `fashionlab` command as the local study, with `--run-index $SLURM_ARRAY_TASK_ID`:
/// it trains that one run into the run's shared directory (reused when finished, continued from its last
/// epoch checkpoint when a cancelled, preempted or requeued task left it unfinished). The report job runs the
/// command with `--report-only`: it writes the report from the finished runs and fails, naming them, when
/// any is missing. Every argument of the commands is single-quoted for the shell; the values on `#SBATCH`
/// lines are checked by ``SlurmOptions/validate()`` and ``checkSafeForDirective(_:flag:)``.
public struct SlurmScript: Sendable, Equatable {
    /// The array's script.
    public let array: String
    /// The report job's script (submitted with `--dependency=afterany:ARRAY_JOB`).
    public let report: String

    /// - Parameters:
    ///   - name: the study's (or `lab`); it names the jobs (`fashionlab-NAME`, other characters as `_`).
    ///   - command: the absolute path of `fashionlab` and the arguments that select the runs and their settings.
    ///   - runCount: the tasks of the array.
    ///   - logDirectory: an absolute directory for the jobs' output (`run-%A_%a.out`, `report-%j.out`).
    ///   - options: the jobs' resources (partition, time, CPUs and GPUs a task, memory, throttle, other sbatch options).
    public init(name: String, command: [String], runCount: Int, logDirectory: String, options: SlurmOptions) throws {
        try options.validate()
        try Self.checkSafeForDirective(logDirectory, flag: "--out")
        precondition(runCount >= 1, "a job array needs a task")
        let jobName = "fashionlab-" + String(String.UnicodeScalarView(name.unicodeScalars.map {
            SlurmOptions.nameCharacters.contains($0) ? $0 : "_"
        }))

        var shared: [String] = []
        if let partition = options.partition { shared.append("--partition=\(partition)") }
        if let time = options.time { shared.append("--time=\(time)") }
        if let memory = options.memory { shared.append("--mem=\(memory)") }

        var arrayLines = ["--job-name=\(jobName)",
                          "--array=0-\(runCount - 1)" + (options.throttle.map { "%\($0)" } ?? ""),
                          "--output=\(logDirectory)/run-%A_%a.out",
                          "--cpus-per-task=\(options.cpusPerRun)"]
        if options.gpusPerRun > 0 { arrayLines.append("--gres=gpu:\(options.gpusPerRun)") }
        // A task requeued (node failure, preemption) appends to its log and continues its run.
        arrayLines += shared + ["--requeue", "--open-mode=append"] + options.extraArguments
        array = Self.script(
            directives: arrayLines,
            comment: """
            # One task per run: task N trains run N of the study into its own locked directory under the
            # study's runs folder. A finished run is skipped; an interrupted one continues from its last epoch.
            """,
            command: command.map(Self.shellQuoted) + ["--run-index", "\"$SLURM_ARRAY_TASK_ID\""])

        let reportLines = ["--job-name=\(jobName)-report",
                           "--output=\(logDirectory)/report-%j.out",
                           "--cpus-per-task=1"] + shared + options.extraArguments
        report = Self.script(
            directives: reportLines,
            comment: """
            # Runs after the array has ended (--dependency=afterany): writes the report from the finished runs,
            # or fails naming the runs that did not finish.
            """,
            command: command.map(Self.shellQuoted) + ["--report-only"])
    }

    /// The script: the directives, the comment, and the command with each option and its value on a line.
    static func script(directives: [String], comment: String, command: [String]) -> String {
        var lines: [String] = []
        for word in command {
            if word.hasPrefix("-") || lines.isEmpty { lines.append(word) } else { lines[lines.count - 1] += " " + word }
        }
        return (["#!/bin/bash"] + directives.map { "#SBATCH " + $0 } + [comment, "set -eu", "exec " + lines.joined(separator: " \\\n  ")])
            .joined(separator: "\n") + "\n"
    }

    /// `text` as one shell word: as it is when it holds only characters no shell treats specially (letters,
    /// digits, `_ . / : = , + @ -`), otherwise in single quotes, each `'` written as `'\''`. Nothing is expanded.
    public static func shellQuoted(_ text: String) -> String {
        if !text.isEmpty, text.unicodeScalars.allSatisfy({ plainCharacters.contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    static let plainCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,+@-".unicodeScalars)

    /// Throws unless `path` can go on an `#SBATCH` line as it is: sbatch splits those lines at spaces, reads
    /// quotes and backslashes, ends them at a `#` (a comment), and expands `%` patterns in file names, so a path
    /// with any of them (or a control character) is refused with the flag that gave it.
    public static func checkSafeForDirective(_ path: String, flag: String) throws {
        if let bad = path.unicodeScalars.first(where: {
            $0.properties.generalCategory == .control || $0.properties.isWhitespace || "\"'\\%#".unicodeScalars.contains($0)
        }) {
            throw SlurmOptionError(flag: flag, message: "gives the log folder '\(path.debugDescription.dropFirst().dropLast())', which contains \("%#".unicodeScalars.contains(bad) ? "'\(bad)'" : SlurmOptions.named(bad)): Slurm's log file names (#SBATCH --output) cannot carry it; for --slurm, choose a folder (and a study name) without it")
        }
    }
}
