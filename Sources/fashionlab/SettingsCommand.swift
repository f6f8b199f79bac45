import ArgumentParser
import FashionTraining

/// `fashionlab settings`: the table of training settings, which `train`, `lr-find` and study files take.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "List the training settings: train's flags, which are also a study file's keys.")

    @Flag(help: "Print the table as Markdown (as docs/training.md holds it).")
    var markdown = false

    func run() {
        print(markdown ? TrainingSetting.markdownTable : TrainingSetting.listing, terminator: "")
    }
}
