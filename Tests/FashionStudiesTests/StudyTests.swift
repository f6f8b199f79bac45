import Foundation
import Testing
import FashionCore
import FashionData
import FashionEngine
import FashionStudies
import FashionTraining
import FashionTestSupport

@Suite struct BuiltinStudyTests {
    @Test func notebookSettings() {
        let scaling = BuiltinStudies.scaling.runs.map(\.config)
        #expect(scaling.map(\.scale) == [false, true])
        #expect(scaling.allSatisfy { $0.optimizer == .sgd && $0.learningRate == 0.01 && $0.batchSize == 32 && $0.epochs == 5 && $0.hidden == [1000] })
        #expect(BuiltinStudies.batchSize.runs.map(\.config.batchSize) == [32, 10_000])
        #expect(BuiltinStudies.batchSize.runs.allSatisfy { $0.config.optimizer == .adam && $0.config.learningRate == 0.01 })
        #expect(BuiltinStudies.optimizer.runs.map(\.config.optimizer) == [.sgd, .adam])
        #expect(BuiltinStudies.optimizer.runs.allSatisfy { $0.config.epochs == 10 })
        #expect(BuiltinStudies.learningRate.runs.map(\.config.learningRate) == [0.1, 0.001, 0.00001])
        #expect(BuiltinStudies.learningRateUnscaled.runs.allSatisfy { !$0.config.scale })
        #expect(BuiltinStudies.weights.runs.count == 6)
        #expect(BuiltinStudies.learningRateLong.runs[0].config.epochs == 100)
        #expect(BuiltinStudies.lab.map { $0.runs.count }.reduce(0, +) == 12)
        #expect(BuiltinStudies.lab.flatMap(\.runs).map(\.config.epochs).reduce(0, +) == 70)
    }
}

@Suite struct StudyFileTests {
    func parse(_ text: String) throws -> Study { try StudyFile.parse(Data(text.utf8), name: "my.json") }

    @Test func gridIsEveryCombination() throws {
        let study = try parse(#"{"name": "grid", "base": {"optimizer": "adam", "epochs": 2}, "grid": {"lr": [0.01, 0.001], "batch-size": [32, 64, 128]}}"#)
        #expect(study.name == "grid")
        #expect(study.runs.count == 6)
        #expect(study.runs.allSatisfy { $0.config.optimizer == .adam && $0.config.epochs == 2 })
        #expect(Set(study.runs.map(\.label)).count == 6)
        #expect(study.runs[0].label == "batch-size 32, lr 0.01")
    }

    @Test(arguments: [
        (#"{"nme": "x"}"#, "unknown field 'nme'"),
        (#"{"base": {"lr": "fast"}}"#, "base.lr: expected a number, found fast"),
        (#"{"grid": {"lr": [0.1, -1]}}"#, "grid.lr[1]: must be a positive number"),
        (#"{"grid": {"optimizer": ["sgd", "rmsprop"]}}"#, "grid.optimizer[1]: expected sgd, adam or adamw"),
        (#"{"grid": {"learning_rate": [0.1]}}"#, "grid.learning_rate: unknown setting 'learning_rate'"),
        (#"{"grid": {"lr": []}}"#, "grid.lr must be a non-empty list"),
        (#"{"base": {"epochs": 2.5}}"#, "base.epochs: expected an integer, found 2.5"),
        ("{\n  \"base\": {\"lr\" 0.1}\n}", "not valid JSON at line 2"),
        ("[1, 2]", "the top level must be an object"),
    ])
    func rejectsMistakesNamingTheField(text: String, expected: String) {
        let error = #expect(throws: StudyFileError.self) { try parse(text) }
        #expect(error?.file == "my.json")
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }
}

/// A dataset small enough to train in a test: class c is bright in band c.
func bandDataset(count: Int, seed: UInt64) -> Dataset { Dataset.bands(count: count, seed: seed) }

@Suite struct StudyRunnerTests {
    func tinyStudy() -> Study {
        var small = TrainingConfig()
        small.hidden = [16]
        small.epochs = 2
        small.batchSize = 10
        small.optimizer = .adam
        small.learningRate = 0.01
        var large = small
        large.batchSize = 100
        return Study(name: "batch-size", kind: .batchSize, runs: [StudyRun(label: "batch 10", config: small), StudyRun(label: "batch 100", config: large)])
    }

    @Test func finishedRunsAreReusedAndUnfinishedOnesRerun() throws {
        let directory = TestFiles.newPath("study")
        let train = bandDataset(count: 200, seed: 1), test = bandDataset(count: 50, seed: 2)
        let first = try StudyRunner(train: train, test: test, runsDirectory: directory).run(tinyStudy())
        #expect(first.runs.allSatisfy { !$0.reused && $0.history.epochs.count == 2 })

        let second = try StudyRunner(train: train, test: test, runsDirectory: directory).run(tinyStudy())
        #expect(second.runs.allSatisfy { $0.reused })
        #expect(second.runs.map { $0.history.epochs.map(\.trainLoss) } == first.runs.map { $0.history.epochs.map(\.trainLoss) })

        // An interrupted run (no metrics written) is trained again; the finished one is not.
        try FileManager.default.removeItem(atPath: first.runs[1].directory + "/metrics.json")
        let third = try StudyRunner(train: train, test: test, runsDirectory: directory).run(tinyStudy())
        #expect(third.runs.map(\.reused) == [true, false])

        // A changed configuration is a different run.
        let longer = tinyStudy().withEpochs(3)
        let fourth = try StudyRunner(train: train, test: test, runsDirectory: directory).run(longer)
        #expect(fourth.runs.allSatisfy { !$0.reused && $0.history.epochs.count == 3 })
    }

    @Test func runsOnTheGPUAreKeptApartFromRunsOnTheCPU() throws {
        // The host emulation of the CUDA backend stands in for a GPU (it needs clang, as the CUDA tests do).
        guard let emulation = try? CUDADevice.hostEmulation.get() else { return }
        let directory = TestFiles.newPath("study")
        let train = bandDataset(count: 200, seed: 1), test = bandDataset(count: 50, seed: 2)
        let onCPU = try StudyRunner(train: train, test: test, runsDirectory: directory).run(tinyStudy())
        let gpuRunner = StudyRunner(train: train, test: test, runsDirectory: directory)
        gpuRunner.backend = .cuda(emulation)
        let onGPU = try gpuRunner.run(tinyStudy())
        #expect(onGPU.runs.allSatisfy { !$0.reused && $0.directory.hasSuffix("-cuda") })
        #expect(onCPU.runs.allSatisfy { !$0.directory.hasSuffix("-cuda") })
        #expect(try gpuRunner.run(tinyStudy()).runs.allSatisfy { $0.reused })
    }

    @Test func findingsComeFromTheNumbers() throws {
        let directory = TestFiles.newPath("study")
        let result = try StudyRunner(train: bandDataset(count: 200, seed: 1), test: bandDataset(count: 50, seed: 2), runsDirectory: directory).run(tinyStudy())
        let english = Findings.write(result, language: .english)
        let small = result.runs[0].history.last!.validationAccuracy!
        #expect(english[0].hasPrefix("Batch size 10 reached \(String(format: "%.1f", small * 100))% validation accuracy after 2 epochs"))
        #expect(english[0].hasSuffix("20 against 2 weight updates per epoch."))
        let vietnamese = Findings.write(result, language: .vietnamese)
        #expect(vietnamese[0].contains(String(format: "%.1f", small * 100).replacingOccurrences(of: ".", with: ",") + "%"))
        #expect(vietnamese[0].contains("lần cập nhật trọng số mỗi epoch"))

        let page = LabReport.page(data: nil, samplesPNG: nil, results: [result], language: .vietnamese).html()
        #expect(page.contains("<html lang=\"vi\">"))
        #expect(page.contains("Kích thước batch"))
        #expect(page.contains("id=\"batch-size\""))
    }
}

/// A study file's `model`: a built-in name or an inline model description.
@Suite struct StudyFileModelTests {
    @Test func modelTakesANameOrADescription() throws {
        let study = try StudyFile.parse(Data(#"""
        {"grid": {"model": ["cnn", {"input_shape": [784], "layers": [{"type": "Linear", "in_features": 784, "out_features": 10}]}]}}
        """#.utf8), name: "my.json")
        #expect(study.runs.map(\.config.model) == [.cnn, .custom])
        #expect(study.runs[1].config.architecture == ModelDescription(inputShape: [784], layers: [.linear(784, 10)]))
        #expect(study.runs[1].label == "model custom (1 layers)")
        let error = #expect(throws: StudyFileError.self) {
            _ = try StudyFile.parse(Data(#"{"base": {"model": {"input_shape": [784], "layers": [{"type": "Linear", "in_features": 700, "out_features": 10}]}}}"#.utf8), name: "my.json")
        }
        #expect(error?.description == "my.json: base.model: layer 0 (Linear): in_features 700 does not match its input, 784 values ([784])")
        #expect(throws: StudyFileError.self) { _ = try StudyFile.parse(Data(#"{"base": {"model": "custom"}}"#.utf8), name: "my.json") }
    }
}
