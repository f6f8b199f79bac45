import ArgumentParser
import FashionCharts
import FashionCore
import FashionEngine
import FashionTraining
import Foundation

/// `fashionlab lr-find`: fastai's learning-rate range test for any model and optimiser `train` takes.
struct LearningRateFinderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-find",
        abstract: "Find a learning rate: train a fresh model for a few hundred steps while the rate grows exponentially, and suggest one.",
        discussion: "fastai's learning-rate range test (Smith 2015). The smoothed loss is drawn against the rate; the test stops when it explodes (4× its minimum). Two suggestions: the rate of steepest descent, and the rate of the minimum ÷ 10. The model and optimiser flags are train's (--schedule and --epochs are not used).")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions
    @OptionGroup var options: TrainingOptions

    @Option(parsing: .unconditional, help: "The first learning rate of the ramp.")
    var start: Float = 1e-7

    @Option(parsing: .unconditional, help: "The last learning rate of the ramp.")
    var end: Float = 10

    @Option(help: "Steps of the ramp (the test may stop earlier, when the loss explodes).")
    var steps = 100

    @Option(help: ArgumentHelp("Where to write lr_find.svg, lr_find.json and report.html.", valueName: "DIR"))
    var out = "lr-find"

    func validate() throws {
        try options.validate()
        guard start.isFinite, start > 0 else { throw ValidationError("--start must be a positive number, got \(start)") }
        guard end.isFinite, end > start, end <= TrainingSetting.Limits.learningRate else {
            throw ValidationError("--end must be above --start (\(start)) and at most \(TrainingSetting.Limits.learningRate), got \(end)")
        }
        guard (2...10_000).contains(steps) else { throw ValidationError("--steps must be 2 to 10000, got \(steps)") }
        try PathName.validate(URL(fileURLWithPath: out).lastPathComponent, what: "--out")
    }

    func run() throws {
        options.applyThreads()
        let (backend, device) = try deviceOptions.select(quiet: false)
        let data = try dataOptions.load()
        let config: TrainingConfig
        do {
            config = try options.config.prepared(for: data.train, normalize: options.settings.normalize)
        } catch let error as BatchLargerThanTrainingSet {
            throw ValidationError("--batch-size \(error.batchSize) is larger than the \(error.trainingImages) training images")
        }
        let finder = LearningRateFinder(start: start, end: end, steps: steps)
        print("Learning-rate range test: \(config.network), \(config.optimizer.rawValue), batch \(config.batchSize); rate \(start) → \(end) over \(steps) steps")
        let result = try finder.run(config: config, train: data.train, backend: backend) { index, smoothed in
            Terminal.drawBar("lr-find", fraction: Double(index + 1) / Double(steps),
                             detail: String(format: "rate %.2e  smoothed loss %.4f", finder.rate(step: index), smoothed))
        }
        Terminal.endBar()
        if let stopped = result.stoppedEarly { print("Stopped after \(result.points.count) steps: \(stopped)") }
        for line in Self.suggestionLines(result) { print(line) }

        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let optimizer = ["sgd": "SGD", "adam": "Adam", "adamw": "AdamW"][config.optimizer.rawValue] ?? config.optimizer.rawValue
        let title = "Learning-rate range test — \(config.network), \(optimizer), batch \(config.batchSize)"
        let chart = LearningRateChart(title: title, result: result).svg()
        try AtomicFile.write(text: chart, to: out + "/lr_find.svg")
        let encoder = NonFiniteJSON.encoder([.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Array(try encoder.encode(result)), to: out + "/lr_find.json")
        var page = ReportPage(title: title, subtitle: "FashionLab \(FashionLabVersion.current) · Fashion-MNIST")
        var section = ReportSection(id: "lr-find", heading: "Loss against the learning rate")
        section.paragraphs = Self.suggestionLines(result).map { .text($0) }
        section.figures.append(.svg(chart, caption: "Each step's training loss (dots) and its exponential moving average (line, β = 0.98, debiased), the rate growing exponentially from \(start) to \(end). A good rate lies on the steep descent, before the minimum."))
        page.sections.append(section)
        page.sections.append(RunCharts.environmentSection(device: device))
        try AtomicFile.write(text: page.html(), to: out + "/report.html")
        print("Saved lr_find.svg, lr_find.json and report.html in \(out)")
    }

    static func suggestionLines(_ result: LearningRateFinder.Result) -> [String] {
        var lines: [String] = []
        if let steepest = result.steepest { lines.append(String(format: "Suggested rate (steepest descent): %.3g", steepest)) }
        if let minimum = result.minimumDividedBy10 { lines.append(String(format: "Suggested rate (minimum ÷ 10): %.3g", minimum)) }
        if lines.isEmpty { lines.append("No suggestion: the loss never fell (try a smaller --start or more --steps)") }
        return lines
    }
}
