import Foundation
import Testing
import FashionTestSupport

/// `train --model net.json`: a network of the user's own, trained, evaluated, used to predict and resumed, and
/// the errors a bad description file gets.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: fashionlabBinary), "the fashionlab binary is not built beside the tests"))
struct CustomModelTests {
    static let smallCNN = """
    {"input_shape": [1, 28, 28],
     "layers": [
       {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3, "padding": 1},
       {"type": "ReLU"},
       {"type": "MaxPool2d", "kernel_size": 2},
       {"type": "Flatten"},
       {"type": "Linear", "in_features": 784, "out_features": 10}
     ]}
    """

    static func write(_ text: String, name: String) -> String {
        let directory = TestFiles.newDirectory("custom-model")
        let path = directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func aBadDescriptionFileIsRefusedByName() throws {
        let wrong = Self.write(Self.smallCNN.replacingOccurrences(of: "\"in_features\": 784", with: "\"in_features\": 700"), name: "wrong.json")
        let cases: [([String], String)] = [
            (["train", "--model", wrong], "--model \(wrong): layer 4 (Linear): in_features 700 does not match its input, 784 values ([784])"),
            (["train", "--model", "/nonexistent/net.json"], "--model /nonexistent/net.json: no such file"),
            (["train", "--model", Self.write("{\"input_shape\": [784], ", name: "broken.json")], "not valid JSON"),
            (["train", "--model", Self.write(Self.smallCNN, name: "net.json"), "--hidden", "64"], "--hidden sizes the MLP only"),
            (["train", "--model", "resnet"], "--model 'resnet' is not a known model (known: mlp, cnn, cnn-large, or a model description file NET.json)"),
        ]
        for (arguments, expected) in cases {
            let result = try runFashionlab(arguments)
            #expect(!result.crashed && result.status != 0, "\(arguments)")
            #expect(result.error.contains(expected), "\(arguments): stderr was \(result.error)")
        }
    }

    @Test(.enabled(if: dataAvailable, "needs the dataset"))
    func trainEvaluatePredictAndResumeACustomNetwork() throws {
        let net = Self.write(Self.smallCNN, name: "tiny-cnn.json")
        let root = TestFiles.newDirectory("custom-run")
        // The default run name names the file.
        let train = try runFashionlab(["train", "--model", net, "--subset", "256", "--epochs", "1", "--batch-size", "32", "--data", dataDirectory],
                                      directory: root)
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("custom (1 Conv2d, 1 Linear; 7,890 parameters)"), "\(train.output)")
        let names = try FileManager.default.contentsOfDirectory(atPath: root + "/runs")
        #expect(names.count == 1 && names[0].hasPrefix("custom-tiny-cnn-sgd-lr0.01-b32-scaled-e1-s0-"), "\(names)")
        let run = root + "/runs/" + (names.first ?? "")
        let metrics = try String(contentsOfFile: run + "/metrics.json", encoding: .utf8)
        #expect(metrics.contains("\"model\" : \"custom\"") && metrics.contains("\"architecture\""), "\(metrics.prefix(400))")

        let evaluation = try runFashionlab(["evaluate", run, "--out", root + "/eval", "--json", "--data", dataDirectory])
        #expect(evaluation.status == 0, "\(evaluation.error)")
        #expect(evaluation.output.contains("\"accuracy\""))

        // The weights file alone: its network comes from the configuration in its metadata…
        #expect(try runFashionlab(["evaluate", run + "/model.safetensors", "--out", root + "/eval2", "--json", "--data", dataDirectory]).status == 0)

        var pixels = [UInt8](repeating: 0, count: 28 * 28)
        for y in 8..<20 { for x in 8..<20 { pixels[y * 28 + x] = 220 } }
        _ = FileManager.default.createFile(atPath: root + "/square.pgm", contents: Data(Array("P5 28 28 255\n".utf8) + pixels))
        let prediction = try runFashionlab(["predict", run, root + "/square.pgm", "--json"])
        #expect(prediction.status == 0, "\(prediction.error)")
        #expect(prediction.output.contains("\"probability\""))

        // `--resume` rebuilds the network from the checkpoint's settings alone (the description file is not read
        // again): a finished run resumes to the same weights. (Interrupted and resumed custom networks are bit
        // identical to uninterrupted ones: ModelDescriptionConfigTests.)
        let digest = try Regex(#"weights_sha256"\s*:\s*"([0-9a-f]{64})""#)
        let first = try runFashionlab(["train", "--model", net, "--subset", "256", "--epochs", "1", "--out", root + "/resumable", "--json", "--data", dataDirectory])
        #expect(first.status == 0, "\(first.error)")
        try FileManager.default.removeItem(atPath: net)
        let resumed = try runFashionlab(["train", "--resume", root + "/resumable", "--json", "--data", dataDirectory])
        #expect(resumed.status == 0, "\(resumed.error)")
        let hash = { (result: CommandResult) in result.output.firstMatch(of: digest).map { String(result.output[$0.range]) } }
        #expect(hash(resumed) != nil && hash(resumed) == hash(first), "\(resumed.output) vs \(first.output)")
    }
}
