import ArgumentParser
import FashionCore
import FashionEngine
import FashionStudies

/// `fashionlab cluster-job FILE`: what the jobs of `study --slurm` and `lab --slurm` run.
struct ClusterJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster-job",
        abstract: "Run one job of a study or lab submitted with --slurm (the job file is written beside its scripts).",
        discussion: "Array task N runs it with --run-index N: it trains run N into its shared directory (reused when finished, continued from its last epoch when a cancelled or requeued task left it unfinished). The report job runs it with --report-only. A job file that changed since it was submitted is refused.")

    @Argument(help: ArgumentHelp("The job file (slurm/job-….json).", valueName: "FILE"))
    var file: String

    @Option(help: ArgumentHelp("The file's SHA-256 at submission.", valueName: "HEX"))
    var sha256: String

    @Option(name: .customLong("run-index"), help: ArgumentHelp("Train run N of the distinct runs (0-based) and write no report.", valueName: "N"))
    var runIndex: Int?

    @Flag(name: .customLong("report-only"), help: "Write the report from the finished runs, training nothing.")
    var reportOnly = false

    @Flag(help: "Print nothing but errors (and the lab's summary).")
    var quiet = false

    func validate() throws {
        guard (runIndex == nil) != !reportOnly else { throw ValidationError("give --run-index N or --report-only (one of them)") }
        if let runIndex, runIndex < 0 { throw ValidationError("--run-index must be 0 or more, got \(runIndex)") }
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw ValidationError("--sha256 must be 64 hexadecimal digits, got '\(sha256)'")
        }
    }

    func run() throws {
        let job: ClusterJob
        do {
            job = try ClusterJob.read(file, sha256: sha256)
        } catch let error as ClusterJobError {
            throw ValidationError(error.description)
        }
        Threads.count = job.threads
        BLAS.shared.setThreadCount(job.threads)
        try LaunchRunner.run(job.launch, runIndex.map { .run(index: $0) } ?? .reportOnly, data: job.data, device: job.device, quiet: quiet)
    }
}
