import ArgumentParser
import FashionCharts
import FashionCore
import FashionEngine
import FashionInterop
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
        guard LabLanguage.named(lang) != nil else { throw ValidationError("--lang must be en or vi, got '\(lang)'") }
        try cluster.validate(device: deviceOptions.device, threads: threadOptions.threads)
        if cluster.fileDigest != nil, file == nil { throw ValidationError("--file-sha256 checks a study --file; give --file") }
        if cluster.slurm || cluster.runIndex != nil || cluster.reportOnly, let tensorboard {
            throw ValidationError("--tensorboard \(tensorboard) is written where the runs train, not by Slurm's tasks: once the array has finished, run the same command without --slurm, on the same device, with --tensorboard (it reuses the finished runs and writes their curves)")
        }
    }

    func run() throws {
        if list {
            let language = LabLanguage.english
            for study in BuiltinStudies.all {
                print("\(study.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(study.runs.count) runs  \(language.studyDescription(study).first ?? "")")
            }
            return
        }
        if let file { try cluster.checkDigest(ofFile: file) }
        var study = try file.map(StudyFile.read) ?? BuiltinStudies.named(name!)!
        if let epochs { study = study.withEpochs(epochs) }
        if let seeds = try seedOptions.list { study = study.withSeeds(seeds) }
        if let valSplit { for index in study.runs.indices { study.runs[index].split = valSplit } }
        guard study.runs.count <= StudyFile.maximumRuns * 5 else {
            throw ValidationError("--seeds makes \(study.runs.count) runs; at most \(StudyFile.maximumRuns * 5) are allowed")
        }
        if cluster.slurm { return try submit(study) }
        threadOptions.apply()
        let language = LabLanguage.named(lang)!
        if let index = cluster.runIndex { return try ClusterOptions.train(try ClusterRuns([study]).run(at: index), of: study.name, out: out, data: dataOptions, device: deviceOptions, quiet: quiet) }
        let (backend, suffix, device) = try cluster.device(deviceOptions, quiet: quiet)
        let data = try dataOptions.load(quiet: quiet)
        let start = DispatchTime.now()
        let events = try tensorboard.map(TensorBoardLogdir.init(path:))
        let runner = StudyRunner(train: data.train, test: data.test, runsDirectory: out + "/runs")
        if let backend { runner.backend = backend }
        runner.runDirectorySuffix = suffix
        Interruption.install()
        runner.stopRequested = { Interruption.requested }
        StudyProgress.attach(to: runner, study: study, quiet: quiet)
        events?.attach(to: runner)
        let result: StudyResult
        if cluster.reportOnly {
            result = try runner.finishedResults([study])[0]
            if !quiet { for (index, run) in result.runs.enumerated() { print(StudyProgress.line(run, study: study.name, index: index, count: result.runs.count)) } }
        } else {
            result = try StudyProgress.interruptible { try runner.run(study) }
        }
        for failure in events?.failures ?? [] { Terminal.note(failure) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let directory = try study.outputDirectory(under: out)
        try StudyFiles.write(result, language: language, device: device, to: directory)
        if !quiet {
            for finding in Findings.write(result, language: language) { print("• " + finding) }
            print(String(format: "Wrote %@/report.html, curves.svg%@ (%.1f s)", directory, study.showsWeights ? ", weights.svg" : "", seconds))
        }
    }

    /// `--slurm`: the study as a job array and a report job, running this same command with `--run-index` and
    /// `--report-only`; paths made absolute, the study file recorded by its SHA-256.
    func submit(_ study: Study) throws {
        var command = [ClusterOptions.executable, "study"]
        if let file {
            let path = ClusterOptions.absolute(file)
            command += ["--file", path, "--file-sha256", try ClusterOptions.digest(ofFile: path)]
        } else {
            command.append(study.name)
        }
        let outDirectory = ClusterOptions.absolute(out)
        command += ["--out", outDirectory, "--lang", lang] + cluster.taskDeviceArguments
        if let epochs { command += ["--epochs", String(epochs)] }
        if let seeds = seedOptions.seeds { command += ["--seeds", seeds] }
        if let valSplit { command += ["--val-split", valSplit.argument] }
        if let data = dataOptions.data { command += ["--data", ClusterOptions.absolute(data)] }
        let directory = try study.outputDirectory(under: outDirectory) + "/slurm"
        try cluster.submit(name: study.name, command: command, runCount: ClusterRuns([study]).runs.count, logDirectory: directory, quiet: quiet)
    }
}

extension ValidationSplit {
    /// As `--val-split` takes it.
    var argument: String {
        switch self {
        case .images(let count): String(count)
        case .fraction(let fraction): String(fraction)
        }
    }
}
