import ArgumentParser
import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionImaging
import FashionInterop
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
        guard LabLanguage.named(lang) != nil else { throw ValidationError("--lang must be en or vi, got '\(lang)'") }
        try cluster.validate(device: deviceOptions.device, threads: threadOptions.threads)
        if cluster.fileDigest != nil { throw ValidationError("--file-sha256 checks a study file; lab has none") }
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
        let start = DispatchTime.now()
        let studies = try studies()
        if cluster.slurm { return try submit(studies) }
        threadOptions.apply()
        if let index = cluster.runIndex { return try ClusterOptions.train(try ClusterRuns(studies).run(at: index), of: "lab", out: out, data: dataOptions, device: deviceOptions, quiet: quiet) }
        let language = LabLanguage.named(lang)!
        let (backend, suffix, device) = try cluster.device(deviceOptions, quiet: quiet)
        let data = try dataOptions.load(quiet: quiet)
        var generator = SeededGenerator(seed: seed)
        let samples = PNG.encode(SampleGrid.render(data.train, perClass: 10, rowNames: FashionMNIST.classNames, using: &generator))
        try AtomicFile.write(samples, to: out + "/fashion_mnist_samples.png")
        if !quiet {
            print("Fashion-MNIST: \(data.train.imageShape) training and \(data.test.imageShape) test images, 10 classes; samples in \(out)/fashion_mnist_samples.png")
        }

        let events = try tensorboard.map(TensorBoardLogdir.init(path:))
        let runner = StudyRunner(train: data.train, test: data.test, runsDirectory: out + "/runs")
        if let backend { runner.backend = backend }
        runner.runDirectorySuffix = suffix
        Interruption.install()
        runner.stopRequested = { Interruption.requested }
        // One GPU trains one run at a time; on the CPU, runs go side by side.
        let concurrentRuns = (backend?.trainsRunsSideBySide ?? false) ? parallelRuns ?? Threads.count : 1
        let results: [StudyResult]
        if cluster.reportOnly {
            results = try runner.finishedResults(studies)
        } else if concurrentRuns > 1 {
            // Independent runs side by side, one thread each; a line per finished run.
            Threads.count = 1
            BLAS.shared.setThreadCount(1)
            StudyProgress.attachSideBySide(to: runner, studies: studies, quiet: quiet)
            events?.attach(to: runner)
            results = try StudyProgress.interruptible { try runner.run(studies, concurrentRuns: concurrentRuns) }
        } else {
            var sequential: [StudyResult] = []
            for study in studies {
                StudyProgress.attach(to: runner, study: study, quiet: quiet)
                events?.attach(to: runner)
                sequential.append(try StudyProgress.interruptible { try runner.run(study) })
            }
            results = sequential
        }
        for failure in events?.failures ?? [] { Terminal.note(failure) }
        for result in results {
            try StudyFiles.writeCharts(result, language: language, to: out + "/" + result.study.name)
        }
        let page = LabReport.page(data: data, samplesPNG: samples, results: results, language: language, device: device)
        try AtomicFile.write(text: page.html(), to: out + "/" + RunDirectory.labPage)
        let total = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9

        print("")
        print(LabReport.terminalTable(results, language: language))
        print("")
        if cluster.reportOnly {
            print(String(format: "The report took %.1f s (its runs were trained by Slurm tasks). Report: %@/index.html", total, out))
        } else {
            print(String(format: "The lab took %.1f s (report included). Report: %@/index.html", total, out))
        }
    }

    /// `--slurm`: the lab's distinct runs as a job array and a report job, running this same command with
    /// `--run-index` and `--report-only`.
    func submit(_ studies: [Study]) throws {
        let outDirectory = ClusterOptions.absolute(out)
        var command = [ClusterOptions.executable, "lab", "--out", outDirectory, "--lang", lang, "--seed", String(seed)] + cluster.taskDeviceArguments
        if long { command.append("--long") }
        if let epochs { command += ["--epochs", String(epochs)] }
        if let seeds = seedOptions.seeds { command += ["--seeds", seeds] }
        if let data = dataOptions.data { command += ["--data", ClusterOptions.absolute(data)] }
        try cluster.submit(name: "lab", command: command, runCount: ClusterRuns(studies).runs.count, logDirectory: outDirectory + "/slurm", quiet: quiet)
    }
}
