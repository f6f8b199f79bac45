import Foundation
import Testing
import FashionTestSupport
import FashionData
import FashionStudies
import FashionTraining

/// Seeds: each setting's runs grouped, their spread, and findings that say when a difference is within it.
@Suite struct SeedStatisticsTests {
    @Test func spreadIsTheSampleStatistics() throws {
        let spread = try #require(Spread([0.80, 0.82, 0.84]))
        #expect(abs(spread.mean - 0.82) < 1e-12 && abs(spread.standardDeviation - 0.02) < 1e-12)
        #expect(spread.minimum == 0.80 && spread.maximum == 0.84 && spread.count == 3)
        #expect(Spread([0.5])?.standardDeviation == 0)
        #expect(Spread([]) == nil && Spread([0.5, .nan]) == nil)
        let touching = try #require(Spread([0.84, 0.9])), apart = try #require(Spread([0.85, 0.9]))
        #expect(spread.overlaps(touching) && !spread.overlaps(apart))
    }

    @Test func seedsRepeatEveryRunAndAStudyFileSeedAxisGroupsLikewise() throws {
        let study = try StudyFile.parse(Data(#"{"name": "s", "base": {"epochs": 1}, "grid": {"optimizer": ["sgd", "adam"]}}"#.utf8), name: "s.json")
        let seeded = study.withSeeds([0, 1, 2])
        #expect(seeded.runs.map(\.label) == ["optimizer sgd", "optimizer sgd", "optimizer sgd", "optimizer adam", "optimizer adam", "optimizer adam"])
        #expect(seeded.runs.map(\.config.seed) == [0, 1, 2, 0, 1, 2])
        let axis = try StudyFile.parse(Data(#"{"name": "s", "base": {"epochs": 1}, "grid": {"optimizer": ["sgd", "adam"], "seed": [0, 1, 2]}}"#.utf8), name: "s.json")
        #expect(axis.runs == seeded.runs)
    }

    @Test func aStudyOverSeedsReportsMeansSpreadsAndWhetherTheyOverlap() throws {
        let train = Dataset.bands(count: 400, seed: 1, noise: 60), test = Dataset.bands(count: 100, seed: 2, noise: 60)
        var sgd = TrainingConfig(), adam = TrainingConfig()
        (sgd.hidden, sgd.epochs, sgd.batchSize, sgd.learningRate) = ([16], 2, 32, 0.001)
        (adam.hidden, adam.epochs, adam.batchSize, adam.optimizer) = ([16], 2, 32, .adam)
        let study = Study(name: "seeds", kind: .custom, runs: [StudyRun(label: "slow sgd", config: sgd), StudyRun(label: "adam", config: adam)])
            .withSeeds([0, 1, 2])
        let runner = StudyRunner(train: train, test: test, runsDirectory: NSTemporaryDirectory() + "fashionlab-seed-test-\(getpid())")
        let result = try runner.run(study)
        #expect(result.hasSeeds && result.groups.map(\.label) == ["slow sgd", "adam"] && result.groups.allSatisfy { $0.runs.count == 3 })
        let findings = Findings.write(result, language: .english)
        #expect(findings.first?.hasPrefix("Over 3 seeds, adam reached the highest mean validation accuracy: ") == true, "\(findings)")
        #expect(findings.count == 2 && findings[1].contains("points"))
        let section = LabReport.section(result, language: .english)
        #expect(section.table?.headers.contains("val acc (mean ± sd, min–max)") == true)
        #expect(section.table?.rows.count == 2 && section.table?.rows[1][1] == "0, 1, 2")
        #expect(section.table?.rows[1][3].contains(" ± ") == true)
    }
}
