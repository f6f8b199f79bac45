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

    @Flag(help: "Also time the cnn recipe's training epoch (batch 64, Adam, one-cycle; about 20 s each on 2 cores).")
    var cnn = false

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
        benchmark.cnn = cnn
        if !json {
            print(backend.summary)
            print("Model: MLP 784-1000-10, batch 32; \(repetitions) repetitions, medians reported")
        }
        let report = try benchmark.run(train: data.train, test: data.test) { line in
            if !json { Terminal.note("  " + line) }
        }
        if json { return try Terminal.printJSON(report) }
        if let peak = report.peakFlops {
            print(String(format: "FMA peak (register-resident loop, %d thread%@): %.1f GFLOP/s", report.threads, report.threads == 1 ? "" : "s", peak / 1e9))
        }
        func line(_ name: String, _ timing: Benchmark.Timing, _ flops: Double) {
            var text = String(format: "%@ %.3f s  GEMMs %.1f GFLOP, %.1f GFLOP/s", name, timing.median, flops / 1e9, flops / timing.median / 1e9)
            if let peak = report.peakFlops { text += String(format: " = %.0f%% of peak", 100 * flops / timing.median / peak) }
            print(text)
        }
        line("SGD training epoch:  ", report.sgdEpoch, report.gemmFlops.mlpEpoch)
        line("Adam training epoch: ", report.adamEpoch, report.gemmFlops.mlpEpoch)
        line("Evaluation (70k img):", report.evaluation, report.gemmFlops.evaluation)
        if let epoch = report.cnnEpoch, let flops = report.gemmFlops.cnnEpoch {
            line("cnn recipe epoch:    ", epoch, flops)
            print("  (the cnn's GEMMs counted as direct convolutions; Winograd's do 3–4× fewer multiplications, so its share of peak can pass 100%)")
        }
        print(String(format: "Peak resident memory: %.0f MB", report.peakResidentMegabytes))
    }
}
