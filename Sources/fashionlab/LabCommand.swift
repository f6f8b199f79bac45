import ArgumentParser
import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionImaging
import FashionStudies
import FashionTraining
import Foundation

/// `fashionlab lab`: the whole course lab — the dataset, every study, one report.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Run the whole lab (prepare and every study) and write one self-contained HTML report.")

    @Option(help: ArgumentHelp("Directory for index.html, the charts and the runs.", valueName: "DIR"))
    var out = "lab"

    @Option(help: ArgumentHelp("Write each run's TensorBoard event files into DIR/<run name> as it trains (tensorboard --logdir DIR).", valueName: "DIR"))
    var tensorboard: String?

    @Option(help: "Report language: en or vi.")
    var lang = "en"

    @Option(help: "Train every run for this many epochs instead of the notebook's (for a quick look).")
    var epochs: Int?

    @Flag(help: "Add the notebook's long run: lr 0.00001 for 100 epochs.")
    var long = false

    @Option(help: "Seed for the sample grid.")
    var seed: UInt64 = 0

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var seedOptions: SeedOptions

    @Option(name: .customLong("parallel-runs"), help: "Runs trained side by side, one thread each (default: one per core; 1 trains runs one after another on all threads).")
    var parallelRuns: Int?

    @Flag(help: "Print only the summary table.")
    var quiet = false

    @OptionGroup(title: "Slurm") var cluster: ClusterOptions

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let parallelRuns, parallelRuns < 1 { throw ValidationError("--parallel-runs must be at least 1, got \(parallelRuns)") }
        guard Language.named(lang) != nil else { throw ValidationError("--lang must be en or vi, got '\(lang)'") }
        try cluster.validate(device: deviceOptions.device, threads: threadOptions.threads)
        if cluster.slurm || cluster.runIndex != nil || cluster.reportOnly, let tensorboard {
            throw ValidationError("--tensorboard \(tensorboard) is written where the runs train, not by Slurm's tasks: once the array has finished, run the same command without --slurm, on the same device, with --tensorboard (it reuses the finished runs and writes their curves)")
        }
        if cluster.slurm || cluster.runIndex != nil || cluster.reportOnly, let parallelRuns {
            throw ValidationError("--parallel-runs \(parallelRuns) trains runs side by side here; with --slurm each run is a task of its own")
        }
    }

    /// The lab's studies, as every mode (local, a Slurm task, the report job) builds them.
    func studies() throws -> [Study] {
        var studies = BuiltinStudies.lab
        if long { studies.append(BuiltinStudies.learningRateLong) }
        if let epochs { studies = studies.map { $0.withEpochs(epochs) } }
        if let seeds = try seedOptions.list { studies = studies.map { $0.withSeeds(seeds) } }
        return studies
    }

    func run() throws {
        let launch = StudyLaunch(lab: try studies(), out: out, language: Language.named(lang)!, sampleSeed: seed)
        if cluster.slurm { return try cluster.submit(launch, data: dataOptions.data, quiet: quiet) }
        threadOptions.apply()
        try LaunchRunner.run(launch, cluster.mode(parallelRuns: parallelRuns), data: dataOptions.data, device: deviceOptions.device, quiet: quiet, tensorboard: tensorboard)
    }
}
