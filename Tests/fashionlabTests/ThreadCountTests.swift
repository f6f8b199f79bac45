import Foundation
import Testing
import FashionTestSupport

/// The notebook's MLP trains to the same weights, bit for bit, on one thread and on two: FashionLab's GEMMs split
/// their work over threads by whole elements of the result (by images, or for a training step's forward pass by
/// features), never by the sum that makes an element. That is a promise of its own GEMMs — the AVX-512 kernels where
/// the CPU has them, the portable one elsewhere — so the test asks for them (`FASHIONLAB_BLAS=builtin`): OpenBLAS,
/// which a CPU without AVX-512 would otherwise use, splits its sums by its thread count (on a Zen 3 machine one and
/// two threads gave different weights after one epoch).
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct ThreadCountTests {
    @Test(arguments: ["sgd", "adam"])
    func theMLPTrainsToTheSameWeightsOnOneThreadAndOnTwo(_ optimizer: String) throws {
        var digests: [String] = []
        for threads in ["1", "2"] {
            let run = try runFashionlab(["train", "--subset", "1920", "--epochs", "1", "--batch-size", "32", "--optimizer", optimizer,
                                         "--lr", optimizer == "sgd" ? "0.01" : "0.001", "--threads", threads,
                                         "--out", TestFiles.newPath("threads-\(optimizer)-\(threads)")],
                                        environment: ["FASHIONLAB_BLAS": "builtin"])
            #expect(run.status == 0, "\(run.error)")
            let line = run.output.split(separator: "\n").first { $0.hasPrefix("Weights SHA-256: ") }
            digests.append(line.map { String($0.dropFirst("Weights SHA-256: ".count)) } ?? "none")
        }
        #expect(digests[0] != "none" && digests[0] == digests[1], "\(digests)")
    }
}
