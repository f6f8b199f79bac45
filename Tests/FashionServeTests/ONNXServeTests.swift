import Foundation
import Testing
import FashionTestSupport

/// `serve` with models from elsewhere: a folder holding only `model.onnx` (a PyTorch export) or only a
/// `model.safetensors` (`scripts/save_for_fashionlab.py`'s) is listed as a model and predicts;
/// one whose operators FashionLab lacks says which when asked to predict, and the server goes on.
@Suite(.serialized, .enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct ONNXServeTests {
    static let interopFixtures = ConsumerPython.repositoryRoot + "/Tests/FashionInteropTests/Fixtures"

    @Test func aFolderWithOnlyAnONNXModelIsListedAndPredicts() throws {
        let root = TestFiles.newDirectory("serve-onnx")
        for (folder, file) in [("pytorch-cnn", "pytorch_cnn.onnx"), ("unsupported", "pytorch_unsupported.onnx")] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.interopFixtures + "/" + file, toPath: root + "/" + folder + "/model.onnx")
        }
        // And a model from PyTorch as a FashionLab model file (scripts/save_for_fashionlab.py), alone in its folder.
        try FileManager.default.createDirectory(atPath: root + "/pytorch-safetensors", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: ConsumerPython.repositoryRoot + "/Tests/FashionTrainingTests/Fixtures/pytorch_cnn_normalised.safetensors",
                                         toPath: root + "/pytorch-safetensors/model.safetensors")
        let server = try ServeProcess(runs: root)
        defer { server.stop() }
        let list = try #require(RawHTTP.get(server.port, "/api/runs")?.json as? [String: Any])
        let runs = try #require(list["runs"] as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: runs.map { ($0["id"] as! String, $0) })
        #expect(byID["pytorch-cnn"]?["status"] as? String == "model", "\(runs)")
        #expect(byID["pytorch-cnn"]?["hasModel"] as? Bool == true)

        let photo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/trouser.jpg")))
        let predicted = try #require(RawHTTP.request(port: server.port, "POST", "/api/predict?run=pytorch-cnn", body: photo, headers: ["Content-Type: image/jpeg"]))
        #expect(predicted.status == 200, "\(predicted.text)")
        let top = try #require((predicted.json as? [String: Any])?["top"] as? [[String: Any]])
        #expect(top.count == 3)
        #expect(RawHTTP.get(server.port, "/runs/pytorch-cnn")?.status == 200)
        #expect(RawHTTP.get(server.port, "/api/runs/pytorch-cnn/weights.svg")?.status == 200)
        #expect(byID["pytorch-safetensors"]?["status"] as? String == "model", "\(runs)")
        let fromSafetensors = try #require(RawHTTP.request(port: server.port, "POST", "/api/predict?run=pytorch-safetensors", body: photo, headers: ["Content-Type: image/jpeg"]))
        #expect(fromSafetensors.status == 200 && ((fromSafetensors.json as? [String: Any])?["top"] as? [[String: Any]])?.count == 3, "\(fromSafetensors.text)")

        let refused = try #require(RawHTTP.request(port: server.port, "POST", "/api/predict?run=unsupported", body: photo, headers: ["Content-Type: image/jpeg"]))
        #expect(refused.status == 422 && refused.text.contains("LeakyRelu, Sigmoid"), "\(refused.status) \(refused.text)")
        #expect(RawHTTP.get(server.port, "/api/runs")?.status == 200)
    }
}
