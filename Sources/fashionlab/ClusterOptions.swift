import ArgumentParser
import FashionCore
import FashionData
import FashionEngine
import FashionStudies
import Foundation

/// `--slurm` and its flags, shared by `study` and `lab`: the study as a Slurm job array (one task per run) and
/// a report job, and the two modes those jobs run the same command in (`--run-index`, `--report-only`).
struct ClusterOptions: ParsableArguments {
    @Flag(help: "Submit to Slurm instead of training here: a job array with one task per run, then a job that writes the report when the array has ended.")
    var slurm = false

    @Option(help: ArgumentHelp("Slurm partition for the jobs (sbatch --partition).", valueName: "NAME"))
    var partition: String?

    @Option(help: ArgumentHelp("Time limit of each task (sbatch --time: MINUTES, HH:MM:SS, D-HH:MM, …).", valueName: "TIME"))
    var time: String?

    @Option(name: .customLong("cpus-per-run"), help: ArgumentHelp("CPUs of each task (sbatch --cpus-per-task), and its --threads (default 1, as the local lab trains each run).", valueName: "N"))
    var cpusPerRun: Int?

    @Option(name: .customLong("gpus-per-run"), help: ArgumentHelp("GPUs of each task (sbatch --gres=gpu:N); the tasks train with --device cuda.", valueName: "N"))
    var gpusPerRun: Int?

    @Option(help: ArgumentHelp("Memory of each task (sbatch --mem, e.g. 4G).", valueName: "SIZE"))
    var mem: String?

    @Option(help: ArgumentHelp("At most N tasks running at once (--array=…%N).", valueName: "N"))
    var throttle: Int?

    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Any other sbatch option, for both jobs, one per flag (e.g. --sbatch-arg=--account=lab).", valueName: "ARG"))
    var sbatchArguments: [String] = []

    @Flag(help: "With --slurm: wait until the report is written, then print the summary.")
    var wait = false

    @Flag(name: .customLong("dry-run"), help: "With --slurm: print the sbatch scripts and submit nothing.")
    var dryRun = false

    @Option(name: .customLong("run-index"), help: ArgumentHelp("Train only run N of the study (0-based; what Slurm array task N runs) and write no report.", valueName: "N"))
    var runIndex: Int?

    @Flag(name: .customLong("report-only"), help: "Write the report from finished runs, training nothing (what the Slurm report job runs); fails naming the runs that have not finished.")
    var reportOnly = false

    @Option(name: .customLong("file-sha256"), help: .hidden)
    var fileDigest: String?

    /// The flags that only mean something with `--slurm`, by name, when given.
    private var slurmOnlyFlagsGiven: [String] {
        [("--partition", partition != nil), ("--time", time != nil), ("--cpus-per-run", cpusPerRun != nil),
         ("--gpus-per-run", gpusPerRun != nil), ("--mem", mem != nil), ("--throttle", throttle != nil),
         ("--sbatch-arg", !sbatchArguments.isEmpty), ("--wait", wait), ("--dry-run", dryRun)].filter(\.1).map(\.0)
    }

    /// Checks the flags together with the command's `--device` and `--threads`.
    func validate(device: DeviceChoice, threads: Int?) throws {
        if !slurm, let flag = slurmOnlyFlagsGiven.first { throw ValidationError("\(flag) applies to --slurm; add --slurm, or leave it out") }
        if slurm, runIndex != nil { throw ValidationError("--run-index trains one run here; it does not go with --slurm") }
        if slurm, reportOnly { throw ValidationError("--report-only writes the report here; it does not go with --slurm") }
        if runIndex != nil, reportOnly { throw ValidationError("--run-index trains a run and --report-only trains nothing; give one of them") }
        if let runIndex, runIndex < 0 { throw ValidationError("--run-index must be 0 or more, got \(runIndex)") }
        if let fileDigest, fileDigest.count != 64 || !fileDigest.allSatisfy(\.isHexDigit) {
            throw ValidationError("--file-sha256 must be 64 hexadecimal digits, got '\(fileDigest)'")
        }
        guard slurm else { return }
        if wait, dryRun { throw ValidationError("--dry-run submits nothing, so there is nothing to --wait for; give one of them") }
        if let threads { throw ValidationError("--threads \(threads) does not go with --slurm: each task's threads are --cpus-per-run") }
        if (gpusPerRun ?? 0) > 0, device == .cpu {
            throw ValidationError("--gpus-per-run \(gpusPerRun!) asks for GPUs but --device cpu trains on the CPU; leave one of them out")
        }
        if (gpusPerRun ?? 0) == 0, device == .cuda {
            throw ValidationError("--device cuda with --slurm needs GPUs on the cluster: add --gpus-per-run N")
        }
        do {
            try resources.validate()
        } catch let error as SlurmOptionError {
            throw ValidationError(error.description)
        }
    }

    var resources: SlurmOptions {
        var options = SlurmOptions()
        options.partition = partition
        options.time = time
        options.cpusPerRun = cpusPerRun ?? 1
        options.gpusPerRun = gpusPerRun ?? 0
        options.memory = mem
        options.throttle = throttle
        options.extraArguments = sbatchArguments
        return options
    }

    /// The arguments every job's command shares: the device and threads the tasks train with.
    var taskDeviceArguments: [String] {
        ["--device", resources.gpusPerRun > 0 ? "cuda" : "cpu", "--threads", String(resources.cpusPerRun)]
    }

    /// The absolute path of this `fashionlab`, for the jobs to run.
    static var executable: String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return absolute(CommandLine.arguments[0])
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// The device the runs train on, the suffix of their directories and the line that says so: `--device`'s
    /// here; for a report job (`--report-only`) the one its tasks trained on, without needing it (a GPU
    /// study's report job runs on any node; `auto` is resolved here).
    func device(_ options: DeviceOptions, quiet: Bool) throws -> (backend: ComputeBackend?, suffix: String, note: String) {
        if reportOnly, let suffix = options.device.runDirectorySuffix {
            return (nil, suffix, options.device == .cuda ? "CUDA (runs trained by Slurm array tasks)" : "CPU (runs trained by Slurm array tasks)")
        }
        let (backend, note) = try options.select(quiet: quiet)
        return (backend, backend.runDirectorySuffix, note)
    }

    /// `--run-index N`: trains one run as a Slurm array task does (reused when finished, continued from its last
    /// epoch when interrupted, waited for while another process trains it) into `out/runs`.
    static func train(_ run: StudyRun, of study: String, out: String, data dataOptions: DataOptions, device deviceOptions: DeviceOptions, quiet: Bool) throws {
        let (backend, _) = try deviceOptions.select(quiet: quiet)
        let data = try dataOptions.load(quiet: quiet)
        let runner = StudyRunner(train: data.train, test: data.test, runsDirectory: out + "/runs")
        runner.backend = backend
        Interruption.install()
        runner.stopRequested = { Interruption.requested }
        StudyProgress.attach(to: runner, study: Study(name: study, kind: .custom, runs: [run]), quiet: quiet)
        let result = try StudyProgress.interruptible { try runner.train(run) }
        if !quiet { print("Run in \(result.directory)") }
    }

    /// `--slurm`: writes the scripts into `logDirectory` and submits them (or prints them with `--dry-run`), then
    /// says how to follow the jobs; with `--wait`, waits for the report job and prints what it printed.
    func submit(name: String, command: [String], runCount: Int, logDirectory: String, quiet: Bool) throws {
        let script: SlurmScript
        do {
            script = try SlurmScript(name: name, command: command, runCount: runCount, logDirectory: logDirectory, options: resources)
        } catch let error as SlurmOptionError {
            throw ValidationError(error.description)
        }
        if dryRun {
            print("# \(logDirectory)/runs.sbatch: \(runCount) task\(runCount == 1 ? "" : "s"), one per run")
            print(script.array)
            print("# \(logDirectory)/report.sbatch: submitted with --dependency=afterany:<the array's job id>")
            print(script.report, terminator: "")
            return
        }
        let start = DispatchTime.now()
        let submission = try SlurmSubmitter.submit(script, directory: logDirectory)
        if !quiet || !wait {
            print("Submitted job array \(submission.arrayJob) (\(runCount) run\(runCount == 1 ? "" : "s")) and report job \(submission.reportJob) (after the array).")
            print("Follow them:  squeue -j \(submission.arrayJob),\(submission.reportJob)")
            print("              sacct -j \(submission.arrayJob),\(submission.reportJob)   (where the cluster keeps accounting)")
            print("Logs:         \(logDirectory)/run-\(submission.arrayJob)_N.out, \(submission.reportLog)")
            print("Resubmitting the same command continues unfinished runs from their last epoch and skips finished ones.")
            fflush(nil)  // before the notes on standard error (nil: every stream; `stdout` is not concurrency-safe in Swift 6)
        }
        guard wait else { return }
        if !quiet { Terminal.note("Waiting for report job \(submission.reportJob) (Ctrl-C stops waiting; the jobs go on)…") }
        let state = try SlurmSubmitter.wait(for: submission.reportJob) { state in
            if !quiet { Terminal.note("report job \(submission.reportJob): \(state)") }
        }
        let log = (try? String(contentsOfFile: submission.reportLog, encoding: .utf8)) ?? ""
        guard state == "COMPLETED" else {
            let tail = log.split(separator: "\n", omittingEmptySubsequences: false).suffix(15).joined(separator: "\n")
            throw SlurmError("the report job \(submission.reportJob) ended \(state) (the tasks' logs: \(logDirectory)/run-\(submission.arrayJob)_*.out); its log \(submission.reportLog) ends:\n\(tail)")
        }
        print(log, terminator: "")
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        print(String(format: "On Slurm: %.1f s from submission to the report (job array %@, report job %@).", seconds, submission.arrayJob, submission.reportJob))
    }

    /// Refuses a study file that changed since it was submitted (`--file-sha256`, written by `--slurm`).
    func checkDigest(ofFile path: String) throws {
        guard let fileDigest else { return }
        let digest = try Self.digest(ofFile: path)
        guard digest == fileDigest.lowercased() else {
            throw ValidationError("--file \(path) changed since the study was submitted (SHA-256 \(digest), submitted \(fileDigest)); its runs would not be the ones submitted: submit it again")
        }
    }

    static func digest(ofFile path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--file \(path): cannot be read") }
        return SHA256.hexDigest(Array(data))
    }
}
