import ArgumentParser
import FashionCharts
import FashionTraining
import Foundation

/// `fashionlab plot RUN_DIR…`: draws runs side by side from their metrics and checkpoints.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw training curves, weight histograms and a report for one or more run directories.")

    @Argument(help: ArgumentHelp("Run directories written by `fashionlab train`.", valueName: "RUN_DIR"))
    var runs: [String]

    @Option(help: ArgumentHelp("Where to write curves.svg, weights.svg and report.html.", valueName: "DIR"))
    var out = "plots"

    @Option(help: "Chart title.")
    var title = "Training runs compared"

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one RUN_DIR") }
    }

    func run() throws {
        let loaded = try runs.map { directory -> RunForReport in
            let history = try RunDirectory.loadHistory(from: directory)
            let model = try? RunDirectory.loadModel(from: directory, config: history.config)
            let label = URL(fileURLWithPath: directory).lastPathComponent
            return RunForReport(label: label, history: history, model: model)
        }
        try RunArtifacts.writeCharts(for: loaded, title: title, to: out)
        print("Wrote curves.svg, weights.svg and report.html for \(loaded.count) run(s) in \(out)")
    }
}
