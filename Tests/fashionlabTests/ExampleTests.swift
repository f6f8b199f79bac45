import Foundation
import Testing

/// `Examples/custom-model`, the program the README shows, built and run as a user runs it.
@Suite(.enabled(if: dataAvailable, "Fashion-MNIST is not in \(dataDirectory)"))
struct ExampleTests {
    @Test func customModelTrainsItsOwnNetwork() throws {
        let binary = URL(fileURLWithPath: fashionlabBinary).deletingLastPathComponent().appendingPathComponent("custom-model").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--epochs", "1", "--subset", "2000"]
        process.environment = ProcessInfo.processInfo.environment.merging(["FASHIONLAB_DATA": dataDirectory]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("Training 20586 parameters on 2000 images for 1 epoch(s)"), "\(output)")
        // One epoch on 2,000 images: about 75% on the 10,000 test images, far above chance (10%).
        let accuracy = output.split(separator: "\n").last.flatMap { Double($0.split(separator: " ").last!.dropLast()) }
        #expect((accuracy ?? 0) > 50, "\(output)")
    }
}
