import Testing
import FashionFuzzing

/// A short fuzzing pass of every parser in the test suite (scripts/fuzz.sh runs a million inputs each).
@Suite struct FuzzTests {
    @Test(arguments: ["idx", "gzip", "safetensors", "png", "pgm", "study"])
    func parsersSurviveMutatedInputs(name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let report = fuzz(target, inputs: 20_000, seed: 42)
        #expect(report.inputs == 20_000)
        #expect(report.rejected > 0, "mutations must reach the error paths")
        #expect(report.accepted >= target.seeds.count, "valid seeds parse")
        #expect(report.slowest < 1, "no input takes a second")
    }

    @Test func mutationIsReproducible() {
        var a = Mutator(seed: 9), b = Mutator(seed: 9)
        let input: [UInt8] = Array(0..<200)
        for _ in 0..<100 { #expect(a.mutate(input, seeds: [input]) == b.mutate(input, seeds: [input])) }
    }
}
