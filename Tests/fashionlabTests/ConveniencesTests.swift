import Foundation
import Testing
import FashionTestSupport

/// What users of Keras, PyTorch and fastai expect, through the command line on the real dataset: a validation split
/// with the best checkpoint and early stopping, and the learning-rate finder.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct ConveniencesTests {
    @Test func aValidationSplitWithEarlyStoppingKeepsTheBestEpochAndTestsOnce() throws {
        let directory = TestFiles.newPath("val-split")
        let run = try runFashionlab(["train", "--subset", "3000", "--hidden", "16", "--epochs", "6", "--val-split", "0.2",
                                     "--early-stop", "1", "--min-delta", "10", "--out", directory])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Validation set: 600 training images held out"), "\(run.output)")
        #expect(run.output.contains("Early stopping: validation loss did not improve by more than 10.0 for 1 epoch; the weights of epoch 1 are restored"))
        #expect(run.output.contains("measured once, on the weights of epoch 1"))
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/metrics.json"))) as! [String: Any]
        #expect((metrics["epochs"] as? [Any])?.count == 2 && metrics["bestEpoch"] as? Int == 1)
        #expect((metrics["test"] as? [String: Any])?["epoch"] as? Int == 1)
        #expect(FileManager.default.fileExists(atPath: directory + "/best.safetensors"))
        let evaluated = try runFashionlab(["evaluate", directory + "/best.safetensors", "--out", TestFiles.newPath("best-eval")])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let report = try String(contentsOfFile: directory + "/report.html", encoding: .utf8)
        #expect(report.contains("Best epoch: 1 of 2") && report.contains("best epoch 1"))
    }

    @Test func badValidationSettingsAreRefusedByName() throws {
        for (arguments, message) in [
            (["--val-split", "0"], "--val-split"), (["--val-split", "1.5"], "--val-split"),
            (["--val-split", "60000"], "--val-split 60000 holds out 60000 of the 60000 training images and leaves none to train on"),
            (["--min-delta", "0.1"], "--min-delta applies to early-stop"), (["--early-stop", "0"], "--early-stop must be 1 to 100000 epochs, got 0"),
            (["--monitor", "accuracy"], "--monitor"),
        ] {
            let run = try runFashionlab(["train", "--epochs", "1", "--out", TestFiles.newPath("bad")] + arguments)
            #expect(run.status != 0 && !run.crashed && run.error.contains(message), "\(arguments): \(run.error)")
        }
    }

    @Test func aRecipeTakesTheRateTheFinderSuggestedAndALength() throws {
        let directory = TestFiles.newPath("recipe-lr")
        let run = try runFashionlab(["train", "--recipe", "cnn", "--subset", "640", "--lr", "0.002", "--epochs", "1", "--out", directory])
        #expect(run.status == 0, "\(run.error)")
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/metrics.json"))) as! [String: Any]
        let config = try #require(metrics["config"] as? [String: Any])
        #expect(abs((config["learningRate"] as? Double ?? 0) - 0.002) < 1e-9 && config["epochs"] as? Int == 1, "\(config)")
        #expect(config["optimizer"] as? String == "adam" && config["batchSize"] as? Int == 64, "the recipe's other settings stay")
    }

    @Test func theLearningRateFinderSuggestsARateAndDrawsTheCurve() throws {
        let directory = TestFiles.newPath("lr-find")
        let run = try runFashionlab(["lr-find", "--subset", "4000", "--hidden", "64", "--optimizer", "adam", "--steps", "120", "--out", directory])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Suggested rate (steepest descent): ") && run.output.contains("Suggested rate (minimum ÷ 10): "), "\(run.output)")
        for file in ["lr_find.svg", "lr_find.json", "report.html"] { #expect(FileManager.default.fileExists(atPath: directory + "/" + file), "\(file)") }
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/lr_find.json"))) as! [String: Any]
        let suggested = try #require(result["minimumDividedBy10"] as? Double)
        #expect(suggested > 1e-6 && suggested < 1, "a plausible rate for Adam: \(suggested)")
    }
}

/// Seeds through the command line: a study file with integer settings and a grid over seeds and augmentation,
/// and `--seeds` on a study, reported as mean ± standard deviation.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct SeedStudyTests {
    @Test func aStudyFileOverSeedsAndAugmentationRunsAndReportsSpreads() throws {
        let file = TestFiles.newPath("seeds", extension: "json")
        try Data(#"{"name": "seeds-augment", "base": {"model": "cnn", "epochs": 1, "subset": 600, "batch-size": 64}, "grid": {"seed": [0, 1, 2], "augment": ["none", "flip"]}}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let out = TestFiles.newPath("seed-study")
        let run = try runFashionlab(["study", "--file", file, "--out", out])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Over 3 seeds, "), "\(run.output)")
        let report = try String(contentsOfFile: out + "/seeds-augment/report.html", encoding: .utf8)
        #expect(report.contains("val acc (mean ± sd, min–max)") && report.contains("augment flip") && report.contains("0, 1, 2"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/runs").count == 6)
    }

    @Test func studyTakesAValidationSplitForEveryRun() throws {
        let file = TestFiles.newPath("split-study", extension: "json")
        try Data(#"{"name": "split", "base": {"epochs": 1, "hidden": [16], "subset": 2000}, "grid": {"optimizer": ["sgd", "adam"]}}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let out = TestFiles.newPath("split-study-out")
        let run = try runFashionlab(["study", "--file", file, "--val-split", "0.1", "--out", out, "--quiet"])
        #expect(run.status == 0, "\(run.error)")
        for directory in try FileManager.default.contentsOfDirectory(atPath: out + "/runs") {
            let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/runs/" + directory + "/metrics.json"))) as! [String: Any]
            #expect((metrics["config"] as? [String: Any])?["validationSplit"] as? Int == 200 && metrics["test"] != nil, "\(directory)")
        }
    }

    @Test func trainOverSeedsRunsEachSeedAsTrainWouldAndReportsTheSpread() throws {
        let out = TestFiles.newPath("train-seeds")
        let common = ["--subset", "2000", "--hidden", "16", "--epochs", "2", "--val-split", "400"]
        let run = try runFashionlab(["train", "--seeds", "0,1"] + common + ["--out", out])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Over seeds 0, 1 (mean ± sd, min–max):") && run.output.contains("test accuracy "), "\(run.output)")
        for file in ["seed-0/model.safetensors", "seed-1/best.safetensors", "report.html", "curves.svg", "weights.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let report = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(report.contains("val acc (mean ± sd, min–max)") && report.contains("0, 1"))
        // A seed's run is the run `train --seed` makes: the same weights.
        let single = try runFashionlab(["train", "--seed", "1", "--json"] + common + ["--out", TestFiles.newPath("seed-1-alone")])
        let alone = try JSONSerialization.jsonObject(with: Data(single.output.split(separator: "\n").last!.utf8)) as! [String: Any]
        #expect(run.output.contains("seed 1: weights SHA-256 \(alone["weights_sha256"] as! String)"), "\(run.output)")
        // Run again: the finished seeds are reused, not trained again.
        let again = try runFashionlab(["train", "--seeds", "0,1", "--json"] + common + ["--out", out])
        #expect(again.status == 0, "\(again.error)")
        let summary = try JSONSerialization.jsonObject(with: Data(again.output.utf8)) as! [String: Any]
        #expect(summary["seeds"] as? [Int] == [0, 1] && (summary["testAccuracy"] as? [String: Any])?["sd"] != nil, "\(again.output)")
        #expect((summary["weightsSHA256"] as? [String])?.last == alone["weights_sha256"] as? String)
        for (arguments, message) in [(["--seeds", "0,1", "--seed", "2"], "--seed and --seeds"), (["--seeds", "0", "--resume", out], "--seeds starts runs")] {
            let refused = try runFashionlab(["train"] + arguments)
            #expect(refused.status != 0 && !refused.crashed && refused.error.contains(message), "\(arguments): \(refused.error)")
        }
    }

    @Test func seedsAreValidated() throws {
        for bad in ["", "1,,2", "-1", "1,1", "x"] {
            let run = try runFashionlab(["study", "scaling", "--seeds", bad, "--out", TestFiles.newPath("bad-seeds")])
            #expect(run.status != 0 && !run.crashed && run.error.contains("--seeds"), "\(bad): \(run.error)")
        }
    }
}
