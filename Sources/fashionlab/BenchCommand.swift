import ArgumentParser
import FashionCore
import FashionEngine
import FashionTraining
import Foundation

/// `fashionlab bench`: training and evaluation throughput of the notebook's MLP on this machine.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time training epochs (SGD, Adam; batch 32) and the evaluation pass of the notebook's MLP.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "Measurements of each kind; the median is reported.")
    var repetitions = 3

    @OptionGroup var threadOptions: ThreadOptions

    @Flag(help: "Print the results as one JSON object.")
    var json = false

    func validate() throws {
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1, got \(repetitions)") }
    }

    func run() throws {
        threadOptions.apply()
        let (backend, _) = try deviceOptions.select(quiet: json)
        let data = try dataOptions.load(quiet: json)
        var benchmark = Benchmark()
        benchmark.repetitions = repetitions
        benchmark.backend = backend
        if !json {
            print(backend.summary)
            print("Model: MLP 784-1000-10, batch 32; \(repetitions) repetitions, medians reported")
        }
        let report = try benchmark.run(train: data.train, test: data.test) { line in
            if !json { Terminal.note("  " + line) }
        }
        if json { return try Terminal.printJSON(report) }
        print(String(format: "SGD training epoch:   %.3f s", report.sgdEpoch.median))
        print(String(format: "Adam training epoch:  %.3f s", report.adamEpoch.median))
        print(String(format: "Evaluation (70k img): %.3f s", report.evaluation.median))
        print(String(format: "Peak resident memory: %.0f MB", report.peakResidentMegabytes))
    }
}
