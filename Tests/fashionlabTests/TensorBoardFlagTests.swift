import Foundation
import Testing
import FashionTestSupport

/// `--tensorboard DIR` on the command line: refused by name when DIR cannot be made, and, given TensorBoard's reader,
/// a `train` and a `study` whose curves it reads with the numbers of their `metrics.json`.
@Suite struct TensorBoardFlagTests {
    @Test(arguments: [["train", "--epochs", "1"], ["study", "batch-size", "--epochs", "1"], ["lab", "--epochs", "1"]])
    func aDirectoryUnderAFileIsRefusedBeforeTraining(command: [String]) throws {
        let root = TestFiles.newDirectory("tensorboard-flag")
        #expect(FileManager.default.createFile(atPath: root + "/file", contents: Data("x".utf8)))
        let run = try runFashionlab(command + ["--tensorboard", root + "/file/tb", "--out", root + "/out", "--quiet"])
        #expect(run.status == 1 && !run.crashed)
        #expect(run.error.contains("--tensorboard: cannot create the directory \(root)/file/tb: \(root)/file is a file"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: root + "/out/" + "metrics.json"))
    }

    /// Two runs of the same name under different folders would be drawn as one run: the second is refused, unless
    /// `--force`, which replaces the first one's curves.
    @Test func anotherRunsCurvesAreRefusedUnlessForced() throws {
        let root = TestFiles.newDirectory("tensorboard-same-name")
        let small = ["train", "--subset", "200", "--hidden", "8", "--epochs", "1", "--tensorboard", root + "/tb", "--quiet"]
        #expect(try runFashionlab(small + ["--out", root + "/a/run"]).status == 0)
        let refused = try runFashionlab(small + ["--out", root + "/b/run", "--seed", "1"])
        #expect(refused.status == 1 && !refused.crashed)
        #expect(refused.error.contains("--tensorboard: \(root)/tb/run already holds the curves of another run (\(root)/tb/run/events.out.tfevents."), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: root + "/b/run/metrics.json"))
        let first = try FileManager.default.contentsOfDirectory(atPath: root + "/tb/run")
        #expect(first.count == 1)

        let forced = try runFashionlab(small + ["--out", root + "/b/run", "--seed", "1", "--force"])
        #expect(forced.status == 0, "\(forced.error)")
        let after = try FileManager.default.contentsOfDirectory(atPath: root + "/tb/run")
        #expect(after.count == 1 && after != first)
    }

    @Test(arguments: [["study", "batch-size", "--slurm"], ["lab", "--report-only"], ["study", "batch-size", "--run-index", "0"]])
    func slurmModesRefuseIt(command: [String]) throws {
        let run = try runFashionlab(command + ["--tensorboard", "tb"])
        #expect(run.status != 0 && !run.crashed)
        #expect(run.error.contains("--tensorboard tb is written where the runs train, not by Slurm's tasks"), "\(run.error)")
    }

    @Test(.enabled(if: ConsumerPython.has("tensorboard"), Comment(rawValue: ConsumerPython.missing("tensorboard"))))
    func trainAndStudyWriteWhatTensorBoardReads() throws {
        let root = TestFiles.newDirectory("tensorboard-cli")
        let train = try runFashionlab(["train", "--subset", "400", "--hidden", "16", "--epochs", "2", "--log-every", "5",
                                       "--out", root + "/runs/small", "--tensorboard", root + "/tb", "--quiet"])
        #expect(train.status == 0, "\(train.error)")
        let study = root + "/tiny.json"
        try Data(#"{"name": "tiny", "base": {"hidden": [16], "epochs": 1, "subset": 300}, "grid": {"lr": [0.01, 0.1]}}"#.utf8)
            .write(to: URL(fileURLWithPath: study))
        let studied = try runFashionlab(["study", "--file", study, "--out", root + "/studies", "--tensorboard", root + "/tb", "--quiet"])
        #expect(studied.status == 0, "\(studied.error)")

        let (status, output) = try ConsumerPython.run([ConsumerPython.repositoryRoot + "/scripts/read_tensorboard.py", root + "/tb"])
        #expect(status == 0, "\(output)")
        let json = try #require(output.firstIndex(of: "{").map { try JSONSerialization.jsonObject(with: Data(output[$0...].utf8)) } as? [String: Any])
        let runs = try #require(json["runs"] as? [String: [String: Any]])
        let studyRuns = try FileManager.default.contentsOfDirectory(atPath: root + "/studies/runs").sorted()
        #expect(studyRuns.count == 2)
        #expect(runs.keys.sorted() == (["small"] + studyRuns).sorted())
        let directories = [("small", root + "/runs/small")] + studyRuns.map { ($0, root + "/studies/runs/" + $0) }
        for (name, directory) in directories {
            let metrics = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/metrics.json"))) as? [String: Any])
            let epochs = try #require(metrics["epochs"] as? [[String: Any]])
            let scalars = try #require(runs[name]?["scalars"] as? [String: [[Any]]])
            let read = (scalars["loss/train"] ?? []).map { Float(($0[1] as! NSNumber).doubleValue) }
            #expect(read == epochs.map { Float(($0["trainLoss"] as! NSNumber).doubleValue) }, "\(name)")
            #expect((scalars["accuracy/test"] ?? []).map { ($0[0] as! NSNumber).intValue } == epochs.map { ($0["epoch"] as! NSNumber).intValue }, "\(name)")
        }
        let steps = try #require((runs["small"]?["scalars"] as? [String: [[Any]]])?["steps/train_loss"])
        // 400 images in batches of 32: 13 steps an epoch (the last one short), logged after steps 5 and 10 of each.
        #expect(steps.map { ($0[0] as! NSNumber).intValue } == [5, 10, 18, 23])
    }
}
