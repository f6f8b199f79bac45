import Foundation

/// What a study's Slurm jobs ask the cluster for: the flags `--partition`, `--time`, `--cpus-per-run`,
/// `--gpus-per-run`, `--mem`, `--throttle` and `--sbatch-arg`, mapped onto sbatch's options by ``SlurmScript``.
///
/// Every value reaches an `#SBATCH` line of the script, so ``validate()`` refuses what sbatch would not accept
/// and anything that could break out of its line (a newline, a control character, a space or a quote).
public struct SlurmOptions: Sendable, Equatable {
    /// `--partition` (sbatch's `--partition`); nil: the cluster's default.
    public var partition: String?
    /// `--time` (sbatch's `--time`: `MINUTES`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`); per task.
    public var time: String?
    /// `--cpus-per-run`: sbatch's `--cpus-per-task`, and the task's `--threads`, so that results are the same as
    /// a local run with that many threads.
    public var cpusPerRun = 1
    /// `--gpus-per-run`: sbatch's `--gres=gpu:N`; with GPUs the tasks train with `--device cuda`.
    public var gpusPerRun = 0
    /// `--mem` (sbatch's `--mem`: `N` megabytes, or `N` with K, M, G or T).
    public var memory: String?
    /// `--throttle`: at most this many tasks run at once (`--array=0-N%T`).
    public var throttle: Int?
    /// `--sbatch-arg`: further sbatch options, each one `--name=value`, `--name` or a single letter `-x`, added to
    /// both jobs. A short option with anything after its letter is refused: getopt reads `-Ho/x` as `-H -o /x`,
    /// so which options it sets depends on which letters take a value.
    public var extraArguments: [String] = []

    public init() {}

    /// Throws ``SlurmOptionError`` naming the flag and what was wrong.
    public func validate() throws {
        if let partition {
            // Slurm partition names; a comma-separated list lets the scheduler pick.
            guard !partition.isEmpty, partition.unicodeScalars.allSatisfy({ Self.nameCharacters.contains($0) || $0 == "," }) else {
                throw SlurmOptionError(flag: "--partition", message: "'\(partition)' is not a partition name (letters, digits, '.', '_', '-'; several separated by commas)")
            }
        }
        if let time, !Self.isTime(time) {
            throw SlurmOptionError(flag: "--time", message: "'\(time)' is not a time sbatch accepts: MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS, DAYS-HOURS:MINUTES, DAYS-HOURS:MINUTES:SECONDS or UNLIMITED")
        }
        guard (1...1024).contains(cpusPerRun) else {
            throw SlurmOptionError(flag: "--cpus-per-run", message: "must be 1 to 1024, got \(cpusPerRun)")
        }
        guard (0...64).contains(gpusPerRun) else {
            throw SlurmOptionError(flag: "--gpus-per-run", message: "must be 0 to 64, got \(gpusPerRun)")
        }
        if let memory, memory.range(of: #"^[0-9]{1,12}[KMGTkmgt]?$"#, options: .regularExpression) == nil || memory.allSatisfy({ $0 == "0" }) {
            throw SlurmOptionError(flag: "--mem", message: "'\(memory)' is not an amount of memory sbatch accepts: a positive number of megabytes, or one with K, M, G or T (e.g. 4G)")
        }
        if let throttle, throttle < 1 {
            throw SlurmOptionError(flag: "--throttle", message: "must be at least 1 (tasks running at once), got \(throttle)")
        }
        for argument in extraArguments {
            guard argument.hasPrefix("-"), argument.count > 1 else {
                throw SlurmOptionError(flag: "--sbatch-arg", message: "'\(argument)' is not an sbatch option; give one option per --sbatch-arg, e.g. --sbatch-arg=--account=lab or --sbatch-arg=--qos=short")
            }
            if let bad = argument.unicodeScalars.first(where: { $0.properties.generalCategory == .control || $0 == " " || $0 == "\"" || $0 == "'" || $0 == "\\" || $0.properties.isWhitespace }) {
                throw SlurmOptionError(flag: "--sbatch-arg", message: "'\(argument.debugDescription.dropFirst().dropLast())' contains \(Self.named(bad)), which an #SBATCH line cannot carry safely; give one option per --sbatch-arg, written --name=value")
            }
            if Self.isManaged(argument) {
                throw SlurmOptionError(flag: "--sbatch-arg", message: "'\(argument)' is set by FashionLab itself (\(Self.managed.joined(separator: ", "))); use its own flag where there is one (--partition, --time, --cpus-per-run, --gpus-per-run, --mem, --throttle)")
            }
            if argument == "--" {
                throw SlurmOptionError(flag: "--sbatch-arg", message: "'--' is not an sbatch option (it ends sbatch's options); give one option per --sbatch-arg, written --name=value")
            }
            if !argument.hasPrefix("--"), argument.count > 2 {
                throw SlurmOptionError(flag: "--sbatch-arg", message: "'\(argument)' is a short option with more after its letter, which sbatch may read as further options (-Ho/x is -H, then -o /x); write the long form, e.g. --sbatch-arg=--account=lab, or one letter alone, e.g. --sbatch-arg=-H")
            }
        }
    }

    /// sbatch options the script writes itself, refused in `--sbatch-arg` so that two lines never disagree.
    static let managed = ["--array", "-a", "--output", "-o", "--error", "-e", "--job-name", "-J", "--cpus-per-task", "-c",
                          "--gres", "--gpus", "-G", "--mem", "--time", "-t", "--partition", "-p", "--dependency", "-d",
                          "--requeue", "--no-requeue", "--open-mode", "--parsable", "--wrap", "--chdir", "-D"]

    /// Whether `argument` sets one of ``managed``, as sbatch reads it: a short option with its value attached
    /// (`-o/tmp/x`, `-a0-99`) or after `=`, a long one under any abbreviation getopt accepts (`--arr=0-99`).
    static func isManaged(_ argument: String) -> Bool {
        let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
        if name.hasPrefix("--") {
            return name.count > 2 && managed.contains { $0.hasPrefix("--") && $0.hasPrefix(name) }
        }
        return managed.contains { !$0.hasPrefix("--") && name.hasPrefix($0) }
    }

    static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".unicodeScalars)

    /// sbatch's `--time` formats (and UNLIMITED / INFINITE).
    static func isTime(_ text: String) -> Bool {
        if ["UNLIMITED", "INFINITE", "unlimited", "infinite"].contains(text) { return true }
        let patterns = [#"^[0-9]+$"#, #"^[0-9]+:[0-9]{1,2}$"#, #"^[0-9]+:[0-9]{1,2}:[0-9]{1,2}$"#,
                        #"^[0-9]+-[0-9]{1,2}$"#, #"^[0-9]+-[0-9]{1,2}:[0-9]{1,2}$"#, #"^[0-9]+-[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}$"#]
        guard text.count <= 20, patterns.contains(where: { text.range(of: $0, options: .regularExpression) != nil }) else { return false }
        // Something to run for: not 0, 0:00, 0-0…
        return text.contains { $0 != "0" && $0 != ":" && $0 != "-" }
    }

    static func named(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case " ": "a space"
        case "\"", "'": "a quote"
        case "\\": "a backslash"
        case "\n": "a newline"
        default: String(format: "the character U+%04X", scalar.value)
        }
    }
}

/// A Slurm flag that cannot be used: the flag and what was wrong.
public struct SlurmOptionError: Error, CustomStringConvertible {
    public let flag: String
    public let message: String
    public init(flag: String, message: String) { self.flag = flag; self.message = message }
    public var description: String { "\(flag) \(message)" }
}
