import Foundation
import Testing
import FashionCore
import FashionData
import FashionEngine
import FashionStudies
import FashionTraining
import FashionTestSupport

/// Study files take every `train` setting by its flag's name, tell numbers from booleans, and name the field
/// of any mistake.
@Suite struct StudyFileSettingsTests {
    func parse(_ text: String, name: String = "study.json") throws -> Study { try StudyFile.parse(Data(text.utf8), name: name) }

    func message(_ text: String, name: String = "study.json") -> String {
        do {
            _ = try parse(text, name: name)
            return "(accepted)"
        } catch let error as StudyFileError {
            return error.description
        } catch {
            return "(not a StudyFileError: \(error))"
        }
    }

    @Test func aSettingGivenTwiceIsRefused() {
        #expect(message(#"{"base": {"epochs": 1, "epochs": 50}}"#).contains("the key 'epochs' appears twice"))
    }

    @Test func zerosAndOnesAreNumbersAndGridsOverSeedsAndAugmentationWork() throws {
        let study = try parse(#"""
        {"name": "seeds", "base": {"model": "cnn", "epochs": 1, "subset": 500, "scale": false},
         "grid": {"seed": [0, 1, 2], "augment": ["none", "flip"]}}
        """#)
        #expect(study.name == "seeds")
        #expect(study.runs.count == 6)
        #expect(study.runs.map(\.label) == ["augment none", "augment none", "augment none", "augment flip", "augment flip", "augment flip"],
                "seeds share their setting's label")
        #expect(study.runs.map(\.config.seed) == [0, 1, 2, 0, 1, 2])
        #expect(study.runs.map(\.config.seed) == [0, 1, 2, 0, 1, 2])
        #expect(study.runs.map(\.config.augmentation) == [nil, nil, nil, Augmentation(flip: true), Augmentation(flip: true), Augmentation(flip: true)])
        for run in study.runs {
            #expect(run.config.epochs == 1 && run.config.model == .cnn && run.config.trainingSubset == 500 && !run.config.scale)
        }
        // A small custom convolutional model takes augmentation too.
        let custom = try parse(#"""
        {"base": {"epochs": 1, "model": {"input_shape": [1, 28, 28], "layers": [
            {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3, "padding": 1}, {"type": "ReLU"},
            {"type": "MaxPool2d", "kernel_size": 2}, {"type": "Flatten"}, {"type": "Linear", "in_features": 784, "out_features": 10}]}},
         "grid": {"augment": ["none", "flip,crop:2,erase:0.3"]}}
        """#)
        #expect(custom.runs.map(\.config.model) == [.custom, .custom])
        #expect(custom.runs[1].config.augmentation == Augmentation(flip: true, cropPadding: 2, erasing: 0.3))
        #expect(custom.name == "study")
    }

    @Test func everyTrainSettingIsAcceptedInBase() throws {
        let study = try parse(#"""
        {"base": {"model": "mlp", "hidden": [64, 32], "optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": true,
                  "weight-decay": 0.0001, "schedule": "cosine", "batch-size": 64, "epochs": 1, "scale": true, "seed": 7,
                  "subset": 500, "normalize": true, "label-smoothing": 0.1, "train-metrics": "batches", "val-split": 0.1,
                  "monitor": "val-accuracy", "early-stop": 3, "min-delta": 0.001}}
        """#)
        let run = try #require(study.runs.first)
        #expect(study.runs.count == 1 && run.label == "base")
        let c = run.config
        #expect(c.model == .mlp && c.hidden == [64, 32] && c.optimizer == .sgd && c.learningRate == 0.05)
        #expect(c.momentum == 0.9 && c.nesterov && c.weightDecay == 0.0001 && c.schedule == LearningRateSchedule(parsing: "cosine"))
        #expect(c.batchSize == 64 && c.epochs == 1 && c.scale && c.seed == 7 && c.trainingSubset == 500)
        #expect(c.labelSmoothing == 0.1 && c.trainingMetrics == .batches && c.augmentation == nil)
        #expect(run.normalize && c.normalization == nil, "measured when the study runs")
        #expect(run.split == .fraction(0.1) && c.validationSplit == nil, "resolved when the study runs")
        #expect(c.monitor == .validationAccuracy && c.earlyStopping == EarlyStopping(patience: 3, minDelta: 0.001))
        let others = try parse(#"{"base": {"model": "cnn-large", "optimizer": "adamw", "no-scale": true, "augment": "crop:2", "train-metrics": "whole-set", "label-smoothing": 0}}"#)
        let o = others.runs[0].config
        #expect(o.model == .cnnLarge && o.optimizer == .adamw && !o.scale && o.augmentation == Augmentation(cropPadding: 2))
        #expect(o.trainingMetrics == nil && o.labelSmoothing == nil)
        #expect(StudyFile.fields == TrainingSetting.all.map(\.flag) && StudyFile.fields.count == 25)
        #expect(message(#"{"base": {"min-delta": 0.1}}"#).contains("base.min-delta: applies to early-stop"))
        #expect(message(#"{"base": {"val-split": 1.5}}"#).contains("expected a number of images ≥ 1 or a fraction in (0, 1)"))
    }

    @Test(arguments: [
        (#"{"base": {"epochs": true}}"#, "study.json: base.epochs: expected an integer, found true"),
        (#"{"base": {"seed": false}}"#, "study.json: base.seed: expected an integer ≥ 0"),
        (#"{"base": {"scale": 0}}"#, "study.json: base.scale: expected true or false, found 0"),
        (#"{"base": {"nesterov": 1}}"#, "study.json: base.nesterov: expected true or false, found 1"),
        (#"{"base": {"normalize": "yes"}}"#, "study.json: base.normalize: expected true or false, found yes"),
        (#"{"base": {"lr": true}}"#, "study.json: base.lr: expected a number, found true"),
        (#"{"base": {"hidden": [64, 0]}}"#, "study.json: base.hidden: sizes must be 1 to 1000000, got 0"),
        (#"{"base": {"optimizer": 1}}"#, "study.json: base.optimizer: expected sgd, adam or adamw, found 1"),
        (#"{"base": {"epochs": 0}}"#, "study.json: base.epochs: must be 1 to 100000, got 0"),
        (#"{"base": {"learning-rate": 0.1}}"#, "study.json: base.learning-rate: unknown setting 'learning-rate' (known: model, hidden, optimizer, lr,"),
        (#"{"grid": {"lr": [0.1, 0.01, -1]}}"#, "study.json: grid.lr[2]: must be a positive number up to 1000.0, got -1.0"),
        (#"{"grid": {"seed": []}}"#, "study.json: grid.seed must be a non-empty list of values, found a list"),
        (#"{"grid": {"seed": 3}}"#, "study.json: grid.seed must be a non-empty list of values, found 3"),
        (#"{"grid": {"augment": ["flip", "rotate"]}, "base": {"model": "cnn"}}"#, "study.json: grid.augment[1]: 'rotate' is not flip, crop:PADDING or erase:PROBABILITY"),
        (#"{"base": {"model": "cnn", "augment": "crop:20"}}"#, "study.json: base.augment: 'crop:20': crop padding must be a whole number from 1 to 8"),
        (#"{"base": {"augment": "flip"}}"#, "study.json: base.augment: needs a convolutional model"),
        (#"{"base": {"model": "cnn", "hidden": [64]}}"#, "study.json: base.hidden: sizes the MLP only; model cnn does not take it"),
        (#"{"base": {"momentum": 0.9}, "grid": {"optimizer": ["sgd", "adam"]}}"#, "study.json: base.momentum: applies to the sgd optimiser only, got 0.9 with adam"),
        (#"{"base": {"nesterov": true}}"#, "study.json: base.nesterov: needs the sgd optimiser and a momentum above 0"),
        (#"{"base": {"momentum": 1}}"#, "study.json: base.momentum: must be in [0, 1), got 1"),
        (#"{"base": {"label-smoothing": 1}}"#, "study.json: base.label-smoothing: must be in [0, 1), got 1"),
        (#"{"base": {"weight-decay": -0.5}}"#, "study.json: base.weight-decay: must be 0 to 10.0, got -0.5"),
        (#"{"base": {"lr": 1e300}}"#, "study.json: base.lr: must be a positive number up to 1000.0, got inf"),
        (#"{"base": {"schedule": "linear"}}"#, "study.json: base.schedule: expected constant, step:EVERY:GAMMA, cosine[:MIN] or onecycle[:WARMUP], found linear"),
        (#"{"base": {"train-metrics": "sometimes"}}"#, "study.json: base.train-metrics: expected whole-set or batches, found sometimes"),
        (#"{"base": {"scale": true, "no-scale": true}}"#, "give scale or no-scale, not both"),
        (#"{"base": {"lr": 0.1}, "grid": {"lr": [0.2]}}"#, "study.json: grid.lr: lr is also set in base.lr; give it in one place"),
        (#"{"base": {"batch-size": 200000}}"#, "study.json: base.batch-size: must be 1 to 100000, got 200000"),
        (#"{"grid": {"hidden": [[64], [2000000]]}}"#, "study.json: grid.hidden[1]: sizes must be 1 to 1000000, got 2000000"),
        (#"{"base": {"schedule": "step:0:0.5"}}"#, "study.json: base"),
        (#"{"base": {"subset": 0}}"#, "study.json: base.subset: must be at least 1, got 0"),
        (#"{"base": {"seed": 1e17}}"#, "study.json: base.seed: expected an integer ≥ 0 and ≤ 9007199254740992"),
        (#"{"base": [1]}"#, "study.json: field 'base' must be an object, found a list"),
        (#"{"name": 3}"#, "study.json: name: expected a string, found 3"),
        (#"{"name": "../escape"}"#, "study.json: name: study name '../escape' cannot be used as a file or directory name"),
        (#"{"name": "-x"}"#, "study.json: name: study name '-x' cannot be used"),
    ])
    func mistakesAreNamed(text: String, expected: String) {
        let said = message(text)
        #expect(said.contains(expected), "\(said)")
    }

    @Test func aStudyNamedAfterABadFileNameIsRefused() {
        #expect(message("{}", name: "/tmp/-x.json").contains("/tmp/-x.json: study name '-x' cannot be used as a file or directory name"))
        #expect(message("{}", name: "/tmp/-x.json").contains("give it a \"name\" field"))
        #expect(message(#"{"name": "fine"}"#, name: "/tmp/-x.json") == "(accepted)")
    }

    @Test func aHugeGridIsRefusedBeforeItIsBuilt() throws {
        // 64^11 runs would overflow Int; 10^4 would take seconds and memory to build. Both are refused at once.
        let list = "[" + (1...64).map(String.init).joined(separator: ", ") + "]"
        let keys = ["seed", "epochs", "batch-size", "subset", "hidden", "lr", "momentum", "weight-decay", "label-smoothing", "seed", "epochs"]
        let huge = "{\"grid\": {" + Set(keys).sorted().map { "\"\($0)\": \(list)" }.joined(separator: ", ") + "}}"
        let said = message(huge)
        #expect(said.contains("study.json: the grid makes more than \(Int.max) runs") || said.contains("study.json: the grid makes"), "\(said)")
        #expect(said.contains("at most 100 are allowed"))
        let ten = "[" + (1...10).map(String.init).joined(separator: ", ") + "]"
        let big = message("{\"grid\": {\"seed\": \(ten), \"epochs\": \(ten), \"batch-size\": \(ten), \"subset\": \(ten)}}")
        #expect(big == "study.json: the grid makes 10000 runs (10 batch-size × 10 epochs × 10 seed × 10 subset); at most 100 are allowed")
        let limit = message("{\"grid\": {\"seed\": \(ten), \"epochs\": \(ten)}}")
        #expect(limit == "(accepted)")
    }

    @Test func normalisationIsMeasuredWhenTheStudyRuns() throws {
        let study = try parse(#"{"name": "norm", "base": {"hidden": [8], "epochs": 1, "batch-size": 16}, "grid": {"normalize": [false, true]}}"#)
        #expect(study.runs.map(\.normalize) == [false, true])
        let train = bandDataset(count: 64, seed: 1), test = bandDataset(count: 16, seed: 2)
        let runner = StudyRunner(train: train, test: test, runsDirectory: TestFiles.newPath("norm-runs"))
        let prepared = try study.runs.map(runner.prepared)
        #expect(prepared[0].config.normalization == nil)
        #expect(prepared[1].config.normalization == .measured(on: train, scale: true))
        let result = try runner.run(study)
        #expect(result.runs[1].history.config.normalization == .measured(on: train, scale: true))
        #expect(result.runs[0].directory != result.runs[1].directory)
    }

    @Test func augmentationListsParseAsTrainsFlagDoes() throws {
        #expect(try Augmentation(parsing: "none").isIdentity)
        #expect(try Augmentation(parsing: "flip,crop:2,erase:0.3") == Augmentation(flip: true, cropPadding: 2, erasing: 0.3))
        #expect(throws: AugmentationSyntaxError(item: "erase:1.5", problem: "erase probability must be in (0, 1]")) { try Augmentation(parsing: "flip,erase:1.5") }
        #expect(throws: AugmentationSyntaxError(item: "", problem: nil)) { try Augmentation(parsing: "flip,") }
    }
}
