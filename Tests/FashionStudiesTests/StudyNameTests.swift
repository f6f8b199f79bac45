import Foundation
import Testing
import FashionCore
import FashionData
import FashionStudies
import FashionTraining
import FashionTestSupport

@Suite struct StudyNameTests {
    static func tinyStudy(named name: String) -> Study {
        var config = TrainingConfig()
        config.hidden = [4]
        config.epochs = 1
        config.batchSize = 8
        return Study(name: name, kind: .custom, runs: [StudyRun(label: "one", config: config)])
    }

    @Test(arguments: ["..", ".", "../escape", "a/b", "-x", "", "bad\u{0}name", "x\u{2028}y"])
    func theRunnerRefusesANameThatIsNotADirectoryName(_ name: String) throws {
        let out = TestFiles.newDirectory("out")
        let runner = StudyRunner(train: bandDataset(count: 32, seed: 1), test: bandDataset(count: 16, seed: 2), runsDirectory: out + "/runs")
        let error = #expect(throws: InvalidPathName.self) { _ = try runner.run(Self.tinyStudy(named: name)) }
        #expect(error?.what == "study name")
        #expect(throws: InvalidPathName.self) { _ = try runner.run([Self.tinyStudy(named: name)], concurrentRuns: 1) }
        #expect(throws: InvalidPathName.self) { _ = try Self.tinyStudy(named: name).outputDirectory(under: out) }
        // Refused before anything was trained or written, inside --out or beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: (out as NSString).deletingLastPathComponent)
            .allSatisfy { !$0.hasPrefix("runs") && $0 != "report.html" && $0 != "curves.svg" })
    }

    @Test func ordinaryNamesGiveADirectoryInsideOut() throws {
        #expect(try Self.tinyStudy(named: "hidden-size").outputDirectory(under: "/tmp/out") == "/tmp/out/hidden-size")
        for study in BuiltinStudies.all { try study.validateName() }
    }
}
