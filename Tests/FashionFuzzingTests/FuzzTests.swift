import Testing
import FashionFuzzing

/// A short pass of every fuzzing target in the test suite (scripts/fuzz.sh runs a million inputs each under
/// AddressSanitizer). Each must reach both its error paths and its accepting paths, and break no promise.
@Suite(.timeLimit(.minutes(5))) struct FuzzTests {
    @Test(arguments: ["idx", "gzip", "safetensors", "png", "pgm", "jpeg", "study"])
    func parsersSurviveMutatedBytes(name: String) throws {
        try expectClean(name, inputs: 20_000)
    }

    @Test(arguments: ["checkpoint", "model-file", "run-directory", "study-meaning"])
    func loadersRefuseLyingFiles(name: String) throws {
        try expectClean(name, inputs: 1_500)
    }

    @Test(arguments: ["markup", "path-name"])
    func escaperAndNamesKeepTheirPromises(name: String) throws {
        try expectClean(name, inputs: 20_000, mustReject: name == "path-name")
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
                                                      "model-file", "run-directory", "study-meaning", "markup", "path-name", "serve"])
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
