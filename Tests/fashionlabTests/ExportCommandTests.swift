import Foundation
import Testing
import FashionTestSupport

/// `fashionlab export --onnx`, and `evaluate`/`predict` reading the file it writes, as a user runs them.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: fashionlabBinary), "the fashionlab binary is not built beside the tests"))
struct ExportCommandTests {
    static let fixtures = ConsumerPython.repositoryRoot + "/Tests/FashionInteropTests/Fixtures"

    @Test("export refuses what it cannot do with a message that names the file or the flag")
    func refusals() throws {
        let missing = try runFashionlab(["export", "/nonexistent/run", "--onnx"])
        #expect(missing.status != 0 && !missing.crashed)
        #expect(missing.error.contains("/nonexistent/run: no such file or directory"), "\(missing.error)")
        let noFormat = try runFashionlab(["export", "/nonexistent/run"])
        #expect(noFormat.status != 0 && noFormat.error.contains("--onnx"), "\(noFormat.error)")
        let unsupported = try runFashionlab(["evaluate", Self.fixtures + "/pytorch_unsupported.onnx", "--out", TestFiles.newPath("eval")])
        #expect(unsupported.status != 0 && !unsupported.crashed)
        #expect(unsupported.error.contains("pytorch_unsupported.onnx: uses operators FashionLab does not have: LeakyRelu, Sigmoid"), "\(unsupported.error)")
    }

    @Test("a run exported to ONNX evaluates to the run's own accuracy, and predict reads it",
          .enabled(if: dataAvailable, "needs /usr/share/datasets/fashion-mnist"))
    func exportThenEvaluate() throws {
        let root = TestFiles.newPath("export")
        let train = try runFashionlab(["train", "--subset", "2000", "--hidden", "32", "--optimizer", "adam", "--lr", "0.003", "--epochs", "1",
                                       "--normalize", "--out", root + "/run", "--quiet"])
        #expect(train.status == 0, "\(train.error)")
        let export = try runFashionlab(["export", root + "/run", "--onnx"])
        #expect(export.status == 0, "\(export.error)")
        #expect(export.output.contains("Wrote \(root)/run/model.onnx: ONNX opset 17"), "\(export.output)")
        let named = try runFashionlab(["export", root + "/run/model.safetensors", "--onnx", root + "/out/named.onnx"])
        #expect(named.status == 0 && FileManager.default.fileExists(atPath: root + "/out/named.onnx"), "\(named.error)")

        func accuracy(_ model: String) throws -> String? {
            let result = try runFashionlab(["evaluate", model, "--out", TestFiles.newPath("eval"), "--json"])
            #expect(result.status == 0, "\(result.error)")
            return result.output.firstMatch(of: /"accuracy":([0-9.e-]+)/).map { String($0.1) }
        }
        let fromRun = try #require(try accuracy(root + "/run"))
        #expect(try accuracy(root + "/run/model.onnx") == fromRun)
        // How the run was trained is the run's to say; an ONNX file does not say it, so nothing is invented for it.
        let ownRun = try runFashionlab(["evaluate", root + "/run", "--out", TestFiles.newPath("eval")])
        #expect(ownRun.output.contains("adam lr 0.003"), "\(ownRun.output)")
        let onnxModel = try runFashionlab(["evaluate", root + "/run/model.onnx", "--out", TestFiles.newPath("eval")])
        #expect(onnxModel.output.contains("— a model without FashionLab's training settings") && !onnxModel.output.contains("lr 0.01"), "\(onnxModel.output)")

        let picture = root + "/square.pgm"
        try Data("P5 28 28 255\n".utf8 + [UInt8](repeating: 0, count: 28 * 8) + [UInt8](repeating: 200, count: 28 * 12) + [UInt8](repeating: 0, count: 28 * 8))
            .write(to: URL(fileURLWithPath: picture))
        let fromSafetensors = try runFashionlab(["predict", root + "/run", picture, "--json"])
        let fromONNX = try runFashionlab(["predict", root + "/run/model.onnx", picture, "--json"])
        #expect(fromONNX.status == 0, "\(fromONNX.error)")
        // The same weights and the same encoding: the same probabilities, to the last digit.
        #expect(fromONNX.output.contains("\"top\"") && fromONNX.output == fromSafetensors.output, "\(fromONNX.output) vs \(fromSafetensors.output)")
    }
}
