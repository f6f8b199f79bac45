import Foundation
import FashionCore

/// One piece of code that reads what a user or a stranger hands FashionLab, and how to make inputs for it.
///
/// Two kinds: parser targets mutate the bytes of valid files (``FuzzTarget/bytes(_:seeds:parse:)``); loader
/// and text targets keep their inputs well-formed and change what they mean — a shape, a dtype, a setting, a
/// layer's arguments, a name — and drive the real loaders of `evaluate`, `predict` and `train --resume`
/// (``FuzzTarget/structured(_:seeds:mutate:run:)``).
public struct FuzzTarget: Sendable {
    public let name: String
    /// What the target feeds and to what.
    public let summary: String
    let drive: @Sendable (_ inputs: Int, _ seed: UInt64, _ progress: (@Sendable (Int) -> Void)?) -> FuzzReport

    /// Feeds `inputs` inputs, reproducibly from `seed`. A crash ends the process (under AddressSanitizer
    /// with its report); a broken promise (``FuzzViolation``) is counted and its first examples kept.
    public func run(inputs: Int, seed: UInt64) -> FuzzReport { drive(inputs, seed, nil) }

    /// The same, calling `progress` with the inputs done after every tenth of them (a long pass shows it is alive).
    public func run(inputs: Int, seed: UInt64, progress: @escaping @Sendable (Int) -> Void) -> FuzzReport { drive(inputs, seed, progress) }
}

/// An input that was handled without a crash but broke a promise the code makes: markup that came
/// through the escaper, a name that escaped its folder, a loaded model that cannot run. Thrown by a
/// target's check; never an acceptable outcome.
public struct FuzzViolation: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How a fuzzing pass went.
public struct FuzzReport: Sendable, CustomStringConvertible {
    public let target: String
    public let inputs: Int
    /// The valid inputs the pass starts from (each is fed once, unchanged, first).
    public let seeds: Int
    /// Inputs the code accepted, and those it refused with an error.
    public let accepted: Int
    public let rejected: Int
    /// Inputs that broke a promise, and the first few of their messages.
    public let violations: Int
    public let violationExamples: [String]
    /// The slowest single input, in seconds (a hang shows up here).
    public let slowest: Double
    public let seconds: Double
    /// What else the target measured (the server target: its peak memory).
    public var note: String? = nil

    public var description: String {
        var text = String(format: "%@: %d inputs, %d accepted, %d rejected with an error, %d broken promises, 0 crashes; slowest input %.1f ms; %.1f s",
                          target, inputs, accepted, rejected, violations, slowest * 1000, seconds)
        if let note { text += "; " + note }
        for example in violationExamples { text += "\n  violation: " + example }
        return text
    }
}

extension FuzzTarget {
    /// A parser fed byte-level mutations of `seeds`; accepted mutants become starting points too.
    static func bytes(_ name: String, summary: String, seeds: [[UInt8]], parse: @escaping @Sendable ([UInt8]) throws -> Void) -> FuzzTarget {
        structured(name, summary: summary, seeds: seeds, mutate: { input, mutator in
            input = mutator.mutate(input, seeds: seeds)
        }, run: parse, keep: { $0.count < 4096 })
    }

    /// A target fed meaning-level mutations of well-formed `seeds` (made once, lazily, by `makeSeeds`).
    static func structured<Input>(_ name: String, summary: String, seeds: @autoclosure @escaping @Sendable () -> [Input],
                                  mutate: @escaping @Sendable (inout Input, inout Mutator) -> Void,
                                  run: @escaping @Sendable (Input) throws -> Void,
                                  keep: @escaping @Sendable (Input) -> Bool = { _ in true }) -> FuzzTarget {
        FuzzTarget(name: name, summary: summary) { inputs, seed, progress in
            let seeds = seeds()
            var mutator = Mutator(seed: seed)
            var corpus = seeds
            var accepted = 0, rejected = 0, violations = 0
            var examples: [String] = []
            var slowest = 0.0
            let start = DispatchTime.now()
            for index in 0..<inputs {
                var input = index < seeds.count ? seeds[index] : corpus[mutator.below(corpus.count)]
                if index >= seeds.count { mutate(&input, &mutator) }
                let began = DispatchTime.now()
                do {
                    try run(input)
                    accepted += 1
                    // Accepted mutants are new starting points (a bounded number of them).
                    if index >= seeds.count, corpus.count < 256, keep(input) { corpus.append(input) }
                } catch let violation as FuzzViolation {
                    violations += 1
                    if examples.count < 5 { examples.append("input \(index): \(violation.message)") }
                } catch {
                    rejected += 1
                }
                slowest = max(slowest, Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9)
                if let progress, inputs >= 10, (index + 1) % (inputs / 10) == 0 { progress(index + 1) }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            return FuzzReport(target: name, inputs: inputs, seeds: seeds.count, accepted: accepted, rejected: rejected,
                              violations: violations, violationExamples: examples, slowest: slowest, seconds: seconds)
        }
    }
}

/// Every target, by name.
public enum FuzzTargets {
    public static var all: [FuzzTarget] { parsers + loaders + memory + outputs + text + servers }
    /// Byte-level mutation of every parser of user files.
    public static var parsers: [FuzzTarget] { [idx, gzip, safetensors, png, pgm, jpeg, studyFile, onnx] }
    /// Well-formed files whose meaning lies, through the loaders of `train --resume`, `evaluate`, `predict`,
    /// `plot` and `study`.
    public static var loaders: [FuzzTarget] { [checkpoint, modelFile, runDirectory, studyMeaning] }
    /// What a file asks of the machine, each held to the bound promised for it: a network's working memory for a
    /// batch, a picture's (``FashionImaging/ImageLimits``).
    public static var memory: [FuzzTarget] { [workingMemory, pictureMemory] }
    /// Models whose outputs are not finite, through everything that formats, encodes or draws them.
    public static var outputs: [FuzzTarget] { [nonFiniteModel] }
    /// Random Unicode through the escaper and the name validator.
    public static var text: [FuzzTarget] { [markup, pathName] }
    /// Hostile requests to a live `fashionlab serve` (the `fashionlab` binary in its own process).
    public static var servers: [FuzzTarget] { [serve] }

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}
