import Foundation
import Testing
import FashionFuzzing

/// A short pass of every fuzzing target in the test suite (scripts/fuzz.sh runs a million inputs each under
/// AddressSanitizer). Each must reach both its error paths and its accepting paths, and break no promise.
@Suite(.timeLimit(.minutes(5))) struct FuzzTests {
    @Test(arguments: ["idx", "gzip", "safetensors", "png", "pgm", "jpeg", "study", "onnx"])
    func parsersSurviveMutatedBytes(name: String) throws {
        try expectClean(name, inputs: 20_000)
    }

    @Test(arguments: ["checkpoint", "model-file", "run-directory", "study-meaning"])
    func loadersRefuseLyingFiles(name: String) throws {
        try expectClean(name, inputs: 1_500)
    }

    @Test func modelsWhoseOutputsAreNotFiniteAreHandled() throws {
        try expectClean("non-finite-model", inputs: 300)
    }

    @Test(arguments: ["markup", "path-name"])
    func escaperAndNamesKeepTheirPromises(name: String) throws {
        try expectClean(name, inputs: 20_000, mustReject: name == "path-name")
    }

    /// The targets that measure memory run in a process of their own (`fashionlab-fuzz`): the suites running
    /// beside them in this one would add their own allocations to the peak. picture-memory's pass is short: each
    /// input decodes up to 50 megapixels.
    @Test(arguments: [("working-memory", 300), ("picture-memory", 16)])
    func filesStayWithinTheMemoryPromisedForThem(name: String, inputs: Int) throws {
        let fuzz = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fashionlab-fuzz")
        let process = Process()
        process.executableURL = fuzz
        process.arguments = ["--inputs", "\(inputs)", "--seed", "42", name]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")
        #expect(report.contains("\(inputs) inputs") && report.contains(" 0 broken promises"), "\(report)")
        #expect(!report.contains(" 0 accepted") && !report.contains(" 0 rejected"), "both paths reached: \(report)")
    }

    /// A live `fashionlab serve` (built beside the tests) on 127.0.0.1 keeps answering hostile requests, keeps its
    /// promises and stays under its memory bound.
    @Test func serverSurvivesHostileRequests() throws {
        let target = try #require(FuzzTargets.named("serve"))
        let report = target.run(inputs: 200, seed: 42)
        print(report)
        #expect(report.violations == 0, "\(report)")
        #expect(report.rejected > 0 && report.accepted > 0, "\(report)")
    }

    @Test func everyTargetIsTested() {
        #expect(Set(FuzzTargets.all.map(\.name)) == ["idx", "gzip", "safetensors", "png", "pgm", "jpeg", "study", "checkpoint",
                                                      "model-file", "run-directory", "study-meaning", "working-memory", "non-finite-model",
                                                      "markup", "path-name", "picture-memory", "serve", "onnx"])
    }

    @Test func mutationIsReproducible() {
        var a = Mutator(seed: 9), b = Mutator(seed: 9)
        let input: [UInt8] = Array(0..<200)
        for _ in 0..<100 { #expect(a.mutate(input, seeds: [input]) == b.mutate(input, seeds: [input])) }
    }

    func expectClean(_ name: String, inputs: Int, mustReject: Bool = true) throws {
        let target = try #require(FuzzTargets.named(name))
        let report = target.run(inputs: inputs, seed: 42)
        #expect(report.inputs == inputs)
        #expect(report.violations == 0, "\(report)")
        #expect(!mustReject || report.rejected > 0, "mutations must reach the error paths")
        #expect(report.accepted >= report.seeds, "the valid seeds are accepted, and some mutants")
    }
}
