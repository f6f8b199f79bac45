import Foundation
import Testing
import FashionTestSupport

/// The notebook's MLP trains to the same weights, bit for bit, on one thread and on two: the GEMMs split their
/// work over threads by whole elements of the result (by images, or for a training step's forward pass by
/// features), never by the sum that makes an element.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct ThreadCountTests {
    @Test(arguments: ["sgd", "adam"])
    func theMLPTrainsToTheSameWeightsOnOneThreadAndOnTwo(_ optimizer: String) throws {
        var digests: [String] = []
        for threads in ["1", "2"] {
            let run = try runFashionlab(["train", "--subset", "1920", "--epochs", "1", "--batch-size", "32", "--optimizer", optimizer,
                                         "--lr", optimizer == "sgd" ? "0.01" : "0.001", "--threads", threads,
                                         "--out", TestFiles.newPath("threads-\(optimizer)-\(threads)")])
            #expect(run.status == 0, "\(run.error)")
            let line = run.output.split(separator: "\n").first { $0.hasPrefix("Weights SHA-256: ") }
            digests.append(line.map { String($0.dropFirst("Weights SHA-256: ".count)) } ?? "none")
        }
        #expect(digests[0] != "none" && digests[0] == digests[1], "\(digests)")
    }
}
