import Foundation
import Testing
import FashionTestSupport

/// `train` never overwrites a run: a directory that holds one is refused unless `--resume` or `--force`, and
/// default run names differ whenever a setting that changes the result differs.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct RunsAreNeverLostTests {
    let quick = ["train", "--subset", "200", "--hidden", "8", "--epochs", "1", "--quiet"]

    /// Every file in `directory` with its contents.
    func snapshot(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            files[name] = FileManager.default.contents(atPath: directory + "/" + name) ?? Data()
        }
        return files
    }

    @Test func aRunIsRefusedUnlessForcedAndForceReplacesIt() throws {
        let directory = TestFiles.newPath("kept")
        let first = try runFashionlab(quick + ["--out", directory])
        #expect(first.status == 0, "\(first.error)")
        let before = try snapshot(directory)
        #expect(before["metrics.json"] != nil)

        let again = try runFashionlab(quick + ["--seed", "1", "--out", directory])
        #expect(again.status != 0 && !again.crashed)
        #expect(again.error.contains("--out \(directory) already holds a run (metrics.json); continue it with --resume \(directory), or replace it with --force"), "\(again.error)")
        #expect(try snapshot(directory) == before, "nothing in the directory changed")

        // An evaluation and an export of the old model go with it.
        _ = FileManager.default.createFile(atPath: directory + "/evaluation.json", contents: Data("{}".utf8))
        #expect(try runFashionlab(["export", directory, "--onnx"]).status == 0)
        _ = FileManager.default.createFile(atPath: directory + "/notes.txt", contents: Data("mine".utf8))
        let forced = try runFashionlab(quick + ["--seed", "1", "--out", directory, "--force"])
        #expect(forced.status == 0, "\(forced.error)")
        let after = try snapshot(directory)
        #expect(after["metrics.json"] != before["metrics.json"])
        #expect(String(decoding: after["metrics.json"] ?? Data(), as: UTF8.self).replacingOccurrences(of: " ", with: "").contains("\"seed\":1"))
        #expect(after["evaluation.json"] == nil, "the replaced run's evaluation is removed")
        #expect(after["model.onnx"] == nil, "the replaced run's export is removed")
        #expect(after["notes.txt"] == Data("mine".utf8), "files that are not the run's are kept")

        let both = try runFashionlab(quick + ["--resume", directory, "--force"])
        #expect(both.status != 0 && both.error.contains("--force replaces a run and --resume \(directory) continues it"), "\(both.error)")
    }

    @Test func anInterruptedRunIsRefusedToo() throws {
        let directory = TestFiles.newDirectory("interrupted-run")
        _ = FileManager.default.createFile(atPath: directory + "/checkpoint.safetensors", contents: Data("not really".utf8))
        let result = try runFashionlab(quick + ["--out", directory])
        #expect(result.status != 0 && result.error.contains("already holds a run (checkpoint.safetensors); continue it with --resume"), "\(result.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["checkpoint.safetensors"])
    }

    /// With `--log-every`, `metrics.json` is written during the first epoch: a run killed there (SIGKILL, no
    /// checkpoint yet) is started again by the same command, while one epoch finished is a run to keep.
    @Test func aRunKilledInItsFirstEpochIsStartedAgain() throws {
        let directory = TestFiles.newPath("killed-in-epoch-1")
        let first = try runFashionlab(quick + ["--log-every", "2", "--out", directory])
        #expect(first.status == 0, "\(first.error)")
        var metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/metrics.json"))) as! [String: Any]
        metrics["epochs"] = [Any]()   // as the file stands in the middle of epoch 1
        try JSONSerialization.data(withJSONObject: metrics).write(to: URL(fileURLWithPath: directory + "/metrics.json"))
        for file in ["checkpoint.safetensors", "model.safetensors", "best.safetensors"] { try? FileManager.default.removeItem(atPath: directory + "/" + file) }
        let again = try runFashionlab(quick + ["--log-every", "2", "--out", directory])
        #expect(again.status == 0, "\(again.error)")
        let refused = try runFashionlab(quick + ["--log-every", "2", "--out", directory])
        #expect(refused.status != 0 && refused.error.contains("already holds a run (metrics.json)"), "\(refused.error)")
    }

    @Test func defaultRunNamesTellEverySettingApart() throws {
        let root = TestFiles.newDirectory("default-names")
        let first = try runFashionlab(quick, directory: root)
        #expect(first.status == 0, "\(first.error)")
        let other = try runFashionlab(["train", "--subset", "200", "--hidden", "16", "--epochs", "1", "--quiet"], directory: root)
        #expect(other.status == 0, "\(other.error)")
        let names = try FileManager.default.contentsOfDirectory(atPath: root + "/runs").sorted()
        #expect(names.count == 2, "the hidden size alone makes another directory: \(names)")
        for name in names {
            #expect(name.hasPrefix("sgd-lr0.01-b32-scaled-e1-s0-"), "\(name)")
            #expect(name.split(separator: "-").last.map { $0.count == 8 && $0.allSatisfy(\.isHexDigit) } == true, "\(name)")
        }
        // The same settings again: the same directory, refused.
        let same = try runFashionlab(quick, directory: root)
        #expect(same.status != 0 && same.error.contains("runs/\(names[0]) already holds a run") || same.error.contains("runs/\(names[1]) already holds a run"), "\(same.error)")
    }
}
