import FashionCharts
import FashionCore
import FashionData
import FashionEngine
import FashionImaging
import FashionTraining

/// What `fashionlab study` and `fashionlab lab` run, here or as Slurm jobs: the studies with every run's whole
/// configuration, where their files go, the report's language and, for the lab, the sample grid's seed.
///
/// A Slurm submission writes this value beside its scripts (``ClusterJob``) and every job reads it back, so the
/// tasks train exactly the runs the command resolved: nothing reaches them as flags typed again.
///
/// ```swift
/// let launch = StudyLaunch(study: BuiltinStudies.scaling, out: "studies", language: .english)
/// let runner = StudyRunner(data: data, out: launch.out)
/// let results = try launch.train(with: runner)
/// for line in try launch.writeReport(results, data: data, device: "CPU") { print(line) }
/// ```
public struct StudyLaunch: Codable, Sendable, Equatable {
    /// What the report is: one study's page (`OUT/NAME/report.html`), or the lab's (`OUT/index.html` with the
    /// sample grid, every study's charts in `OUT/NAME`).
    public enum Kind: String, Codable, Sendable {
        case study, lab
    }

    public var kind: Kind
    /// Every run of every study, as it trains (epochs, seeds and validation splits already applied).
    public var studies: [Study]
    /// The output directory: the runs in `out/runs`, the reports beside them.
    public var out: String
    /// The report's language (`Language.code`: `en` or `vi`).
    public var languageCode: String
    /// The seed of the lab's sample grid.
    public var sampleSeed: UInt64

    /// One study, its report in `out/NAME`.
    public init(study: Study, out: String, language: Language) {
        self.init(kind: .study, studies: [study], out: out, language: language, sampleSeed: 0)
    }

    /// The lab: its studies, one report in `out`.
    public init(lab studies: [Study], out: String, language: Language, sampleSeed: UInt64) {
        self.init(kind: .lab, studies: studies, out: out, language: language, sampleSeed: sampleSeed)
    }

    private init(kind: Kind, studies: [Study], out: String, language: Language, sampleSeed: UInt64) {
        self.kind = kind
        self.studies = studies
        self.out = out
        self.languageCode = language.code
        self.sampleSeed = sampleSeed
    }

    /// The report's language (English for a code this version does not know).
    public var language: Language { Language.named(languageCode) ?? .english }

    /// The distinct runs, in the order a Slurm job array's tasks train them.
    public var distinctRuns: ClusterRuns { ClusterRuns(studies) }

    /// Throws, naming what is wrong, unless every study can become a directory name and every run's settings
    /// are within their bounds (a launch read from a file is checked before anything trains).
    public func validate() throws {
        guard kind == .lab ? !studies.isEmpty : studies.count == 1 else {
            throw StudyFileError("launch", kind == .lab ? "the lab has no studies" : "a study launch holds one study, not \(studies.count)")
        }
        for study in studies {
            try study.validateName()
            for run in study.runs {
                do {
                    try run.config.validate()
                } catch {
                    throw StudyFileError("\(study.name): \(run.label)", "\(error)")
                }
            }
        }
    }

    /// Trains every run with `runner`: one study after another (`willStart` is told each study first, to
    /// attach its progress to the runner), or, with `concurrentRuns` above 1, all studies' runs side by side
    /// on one thread each. Throws ``StudyInterrupted`` when the runner was asked to stop.
    public func train(with runner: StudyRunner, concurrentRuns: Int = 1, willStart: ((Study) -> Void)? = nil) throws -> [StudyResult] {
        if concurrentRuns > 1 {
            Threads.count = 1
            BLAS.shared.setThreadCount(1)
            return try runner.run(studies, concurrentRuns: concurrentRuns)
        }
        return try studies.map { study in
            willStart?(study)
            return try runner.run(study)
        }
    }

    /// Trains run `index` of ``distinctRuns`` only (what Slurm array task `index` does).
    public func trainRun(at index: Int, with runner: StudyRunner) throws -> RunResult {
        try runner.train(try distinctRuns.run(at: index))
    }

    /// Writes the report's files from `results` (a study's `report.html` and charts; the lab's sample grid,
    /// every study's charts and `index.html`) and returns the lines to show in a terminal: the study's
    /// findings, or the lab's summary table.
    public func writeReport(_ results: [StudyResult], data: FashionMNISTData, device: String) throws -> [String] {
        let language = language
        switch kind {
        case .study:
            let result = results[0]
            try StudyFiles.write(result, language: language, device: device, to: try result.study.outputDirectory(under: out))
            return Findings.write(result, language: language).map { "• " + $0 }
        case .lab:
            let samples = try writeSamples(data)
            for result in results {
                try StudyFiles.writeCharts(result, language: language, to: try result.study.outputDirectory(under: out))
            }
            let page = LabReport.page(data: data, samplesPNG: samples, results: results, language: language, device: device)
            try AtomicFile.write(text: page.html(), to: out + "/" + RunDirectory.labPage)
            return [LabReport.terminalTable(results, language: language)]
        }
    }

    /// The lab's grid of ten training images a class, one row a class, written to `out/fashion_mnist_samples.png`;
    /// returns the PNG's bytes.
    @discardableResult
    public func writeSamples(_ data: FashionMNISTData) throws -> [UInt8] {
        var generator = SeededGenerator(seed: sampleSeed)
        let samples = PNG.encode(SampleGrid.render(data.train, perClass: 10, rowNames: FashionMNIST.classNames, using: &generator))
        try AtomicFile.write(samples, to: out + "/" + Self.samplesFile)
        return samples
    }

    /// The sample grid's file name in the lab's folder.
    public static let samplesFile = "fashion_mnist_samples.png"
}

extension StudyRunner {
    /// A runner over `data`'s training and test sets, its runs in `out/runs`, training on `backend` (nil keeps
    /// the CPU; a report written from finished runs trains nothing), whose run directories end with
    /// `runDirectorySuffix` when given (a report job's, for runs its tasks trained on another device), and that
    /// stops between batches at Ctrl-C or SIGTERM (`Interruption`).
    public convenience init(data: FashionMNISTData, out: String, backend: ComputeBackend? = nil, runDirectorySuffix: String? = nil) {
        self.init(train: data.train, test: data.test, runsDirectory: out + "/runs")
        // (An initialiser does not run `backend`'s didSet, which sets the suffix elsewhere.)
        if let backend { self.backend = backend }
        self.runDirectorySuffix = runDirectorySuffix ?? self.backend.runDirectorySuffix
        Interruption.install()
        stopRequested = { Interruption.requested }
    }
}
