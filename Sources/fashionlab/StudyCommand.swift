import ArgumentParser
import FashionCharts
import FashionCore
import FashionEngine
import FashionStudies
import FashionTraining
import Foundation

/// `fashionlab study NAME`: one of the lab's studies, or a user's own from a file.
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Run one study (several runs that differ in one setting) and write its charts, findings and report.",
        discussion: "Built-in studies: \(BuiltinStudies.all.map(\.name).joined(separator: ", ")). A study file is JSON: {\"name\": …, \"base\": {train flags}, \"grid\": {flag: [values]}}.")

    @Argument(help: "The study to run (see --list).")
    var name: String?

    @Flag(help: "List the built-in studies.")
    var list = false

    @Option(help: ArgumentHelp("Run the study described in a JSON file.", valueName: "FILE"))
    var file: String?

    @Option(help: "Train every run for this many epochs instead of the study's own.")
    var epochs: Int?

    @Option(help: ArgumentHelp("Directory for the study's report and charts (runs go in DIR/runs).", valueName: "DIR"))
    var out = "studies"

    @Option(help: ArgumentHelp("Write each run's TensorBoard event files into DIR/<run name> as it trains (tensorboard --logdir DIR).", valueName: "DIR"))
    var tensorboard: String?

    @Option(help: "Report language: en or vi.")
    var lang = "en"

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var seedOptions: SeedOptions

    @Option(name: .customLong("val-split"), help: ArgumentHelp("Hold out N training images (or a fraction) as every run's validation set, as train --val-split does.", valueName: "N|FRACTION"))
    var valSplit: ValidationSplit?

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @OptionGroup(title: "Slurm") var cluster: ClusterOptions

    func validate() throws {
        if list { return }
        guard (name == nil) != (file == nil) else { throw ValidationError("give a study NAME or --file FILE (one of them); --list shows the names") }
        if let name, BuiltinStudies.named(name) == nil {
            throw ValidationError("unknown study '\(name)'; known: \(BuiltinStudies.all.map(\.name).joined(separator: ", "))")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard Language.named(lang) != nil else { throw ValidationError("--lang must be en or vi, got '\(lang)'") }
        try cluster.validate(device: deviceOptions.device, threads: threadOptions.threads)
        if cluster.slurm || cluster.runIndex != nil || cluster.reportOnly, let tensorboard {
            throw ValidationError("--tensorboard \(tensorboard) is written where the runs train, not by Slurm's tasks: once the array has finished, run the same command without --slurm, on the same device, with --tensorboard (it reuses the finished runs and writes their curves)")
        }
    }

    func run() throws {
        if list { return printList() }
        let launch = StudyLaunch(study: try study(), out: out, language: Language.named(lang)!)
        if cluster.slurm { return try cluster.submit(launch, data: dataOptions.data, quiet: quiet) }
        threadOptions.apply()
        try LaunchRunner.run(launch, cluster.mode(), data: dataOptions.data, device: deviceOptions.device, quiet: quiet, tensorboard: tensorboard)
    }

    /// The study as it runs: the named one or the file's, with `--epochs`, `--seeds` and `--val-split` applied.
    func study() throws -> Study {
        var study = try file.map(StudyFile.read) ?? BuiltinStudies.named(name!)!
        if let epochs { study = study.withEpochs(epochs) }
        if let seeds = try seedOptions.list { study = study.withSeeds(seeds) }
        if let valSplit { for index in study.runs.indices { study.runs[index].split = valSplit } }
        guard study.runs.count <= StudyFile.maximumRuns * 5 else {
            throw ValidationError("--seeds makes \(study.runs.count) runs; at most \(StudyFile.maximumRuns * 5) are allowed")
        }
        return study
    }

    func printList() {
        let language = Language.english
        for study in BuiltinStudies.all {
            print("\(study.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(study.runs.count) runs  \(language.studyDescription(study).first ?? "")")
        }
    }
}
