import FashionStudies
import FashionTraining
import Foundation
import Testing

/// The table of training settings (`TrainingSetting.all`) is what `train`'s options and a study file's keys are: the
/// command line's long names and help come from it, and every setting, given by its flag or by a study file, makes
/// the same run.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the binary"))
struct SettingsTableTests {
    /// Each setting given once: by flags, and by a study file's `base` (the other settings a value needs beside it
    /// come with it, the same way in both).
    static let examples: [String: (flags: [String], file: String)] = [
        "model": (["--model", "cnn"], #"{"model": "cnn"}"#),
        "hidden": (["--hidden", "64,32"], #"{"hidden": [64, 32]}"#),
        "optimizer": (["--optimizer", "adamw"], #"{"optimizer": "adamw"}"#),
        "lr": (["--lr", "0.05"], #"{"lr": 0.05}"#),
        "momentum": (["--momentum", "0.9"], #"{"momentum": 0.9}"#),
        "nesterov": (["--nesterov", "--momentum", "0.9"], #"{"nesterov": true, "momentum": 0.9}"#),
        "weight-decay": (["--weight-decay", "0.0005"], #"{"weight-decay": 0.0005}"#),
        "schedule": (["--schedule", "step:2:0.5"], #"{"schedule": "step:2:0.5"}"#),
        "warmup": (["--warmup", "300"], #"{"warmup": 300}"#),
        "batch-size": (["--batch-size", "128"], #"{"batch-size": 128}"#),
        "eval-batch-size": (["--eval-batch-size", "250"], #"{"eval-batch-size": 250}"#),
        "epochs": (["--epochs", "3"], #"{"epochs": 3}"#),
        "scale": (["--scale"], #"{"scale": true}"#),
        "no-scale": (["--no-scale"], #"{"no-scale": true}"#),
        "seed": (["--seed", "42"], #"{"seed": 42}"#),
        "subset": (["--subset", "5000"], #"{"subset": 5000}"#),
        "normalize": (["--normalize"], #"{"normalize": true}"#),
        "augment": (["--augment", "flip,crop:2", "--model", "cnn"], #"{"augment": "flip,crop:2", "model": "cnn"}"#),
        "label-smoothing": (["--label-smoothing", "0.1"], #"{"label-smoothing": 0.1}"#),
        "train-metrics": (["--train-metrics", "batches"], #"{"train-metrics": "batches"}"#),
        "val-split": (["--val-split", "0.1"], #"{"val-split": 0.1}"#),
        "monitor": (["--monitor", "val-accuracy"], #"{"monitor": "val-accuracy"}"#),
        "early-stop": (["--early-stop", "3"], #"{"early-stop": 3}"#),
        "min-delta": (["--min-delta", "0.01", "--early-stop", "2"], #"{"min-delta": 0.01, "early-stop": 2}"#),
        "log-every": (["--log-every", "50"], #"{"log-every": 50}"#),
    ]

    /// What `train --dry-run` prints.
    struct DryRun: Decodable, Equatable {
        let config: TrainingConfig
        let normalize: Bool
        let split: ValidationSplit?
    }

    func dryRun(_ flags: [String]) throws -> DryRun {
        let run = try runFashionlab(["train", "--dry-run"] + flags)
        #expect(run.status == 0, "\(flags): \(run.error)")
        return try JSONDecoder().decode(DryRun.self, from: Data(run.output.utf8))
    }

    @Test func everySettingHasAnExample() {
        #expect(Set(Self.examples.keys) == Set(TrainingSetting.all.map(\.flag)))
    }

    @Test(arguments: TrainingSetting.all.map(\.flag))
    func aSettingGivenByItsFlagOrInAStudyFileMakesTheSameRun(flag: String) throws {
        let example = try #require(Self.examples[flag])
        let byFlags = try dryRun(example.flags)
        let study = try StudyFile.parse(Data(#"{"name": "example", "base": \#(example.file)}"#.utf8), name: "example.json")
        let run = try #require(study.runs.first)
        #expect(byFlags == DryRun(config: run.config, normalize: run.normalize, split: run.split), "\(flag)")
        // The example changes something: a setting that the command line (or the file) ignored would not.
        let defaults = try dryRun([])
        if flag != "scale" { #expect(byFlags != defaults, "--\(flag) changed nothing") }
    }

    @Test func theCommandLinesOptionsAreTheTablesFlagsWithItsHelp() throws {
        let run = try runFashionlab(["train", "--experimental-dump-help"])
        #expect(run.status == 0, "\(run.error)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        let command = try #require(root["command"] as? [String: Any])
        let arguments = try #require(command["arguments"] as? [[String: Any]])
        var help: [String: String] = [:]
        for argument in arguments {
            for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                help[name["name"] as! String] = argument["abstract"] as? String
            }
        }
        for setting in TrainingSetting.all {
            #expect(help[setting.flag] == setting.helpText, "--\(setting.flag)")
        }
    }
}
