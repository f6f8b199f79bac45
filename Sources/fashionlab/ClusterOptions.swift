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

    /// What `--run-index` and `--report-only` ask for: one run, the report from finished runs, or (neither)
    /// every run and then the report, `parallelRuns` side by side where the device trains runs so.
    func mode(parallelRuns: Int? = nil) -> LaunchMode {
        if let runIndex { return .run(index: runIndex) }
        return reportOnly ? .reportOnly : .everything(parallelRuns: parallelRuns)
    }

    /// `--slurm`: `launch` as a job file, a job array and a report job (``ClusterJob``) whose tasks read the data
    /// from `data` and train on the GPUs or CPUs each is given; with `--dry-run` the scripts are printed and
    /// nothing is written. Then says how to follow the jobs; with `--wait`, waits for the report job and prints
    /// what it printed.
    func submit(_ launch: StudyLaunch, data: String?, quiet: Bool) throws {
        let job = ClusterJob(launch: launch, data: data, device: resources.gpusPerRun > 0 ? .cuda : .cpu, threads: resources.cpusPerRun)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let plan: (file: String, sha256: String, script: SlurmScript)
        do {
            plan = try job.plan(executable: executable, options: resources)
        } catch let error as SlurmOptionError {
            throw ValidationError(error.description)
        }
        let logDirectory = try job.directory
        let runCount = launch.distinctRuns.runs.count
        if dryRun {
            print("# \(plan.file) (SHA-256 \(plan.sha256)): every run with its whole settings, the data folder, device and threads the jobs use")
            print(String(decoding: try job.encoded(), as: UTF8.self))
            print("# \(logDirectory)/runs.sbatch: \(runCount) task\(runCount == 1 ? "" : "s"), one per run")
            print(plan.script.array)
            print("# \(logDirectory)/report.sbatch: submitted with --dependency=afterany:<the array's job id>")
            print(plan.script.report, terminator: "")
            return
        }
        let start = DispatchTime.now()
        let submission = try job.submit(executable: executable, options: resources)
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
}
