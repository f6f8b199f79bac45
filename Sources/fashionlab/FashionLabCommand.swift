import ArgumentParser
import FashionCore

/// `fashionlab`: the Fashion-MNIST lab on the command line.
@main
struct FashionLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fashionlab",
        abstract: "Train and study neural networks on Fashion-MNIST.",
        version: FashionLabVersion.current,
        subcommands: [LabCommand.self, PrepareCommand.self, TrainCommand.self, LearningRateFinderCommand.self, StudyCommand.self, ClusterJobCommand.self, EvaluateCommand.self, PredictCommand.self, ServeCommand.self, PlotCommand.self, BenchCommand.self, VerifyCommand.self, SettingsCommand.self]
    )
}
