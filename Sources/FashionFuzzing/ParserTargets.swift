import Foundation
import FashionCore
import FashionData
import FashionEngine
import FashionImaging
import FashionStudies

/// A parser of user files, with valid inputs to start mutating from.
public struct FuzzTarget: Sendable {
    public let name: String
    public let seeds: [[UInt8]]
    /// Parses one input; it may throw, it must not crash, hang or allocate without bound.
    public let parse: @Sendable ([UInt8]) throws -> Void
}

/// How a fuzzing pass went.
public struct FuzzReport: Sendable, CustomStringConvertible {
    public let target: String
    public let inputs: Int
    /// Inputs the parser accepted, and those it refused with an error.
    public let accepted: Int
    public let rejected: Int
    /// The slowest single input, in seconds (a hang shows up here).
    public let slowest: Double
    public let seconds: Double

    public var description: String {
        String(format: "%@: %d inputs, %d accepted, %d rejected with an error, 0 crashes; slowest input %.1f ms; %.1f s",
               target, inputs, accepted, rejected, slowest * 1000, seconds)
    }
}

/// Every parser that reads a user's file: IDX (plain and gzip), gzip alone, safetensors, PNG, PGM (with the
/// picture preparation of `predict`), study files.
public enum FuzzTargets {
    public static var all: [FuzzTarget] { [idx, gzip, safetensors, png, pgm, studyFile] }

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    static var idx: FuzzTarget {
        let images = IDXArray(dimensions: [3, 4, 4], bytes: (0..<48).map { UInt8($0 * 5) })
        let labels = IDXArray(dimensions: [3], bytes: [1, 9, 0])
        let seeds = [images.encoded(), labels.encoded(), Gzip.compress(images.encoded()), Gzip.compress(labels.encoded())]
        return FuzzTarget(name: "idx", seeds: seeds) { bytes in
            let array = try IDX.parse(bytes, name: "fuzz")
            // Also through the dataset checks, as a labels file.
            if array.dimensions.count == 1 {
                _ = try Dataset(images: [UInt8](repeating: 0, count: array.bytes.count * 4), labels: array.bytes, rows: 2, cols: 2)
            }
        }
    }

    static var gzip: FuzzTarget {
        let text = Array(String(repeating: "Fashion-MNIST 0123456789 ", count: 40).utf8)
        return FuzzTarget(name: "gzip", seeds: [Gzip.compress(text), Gzip.compress([]), Gzip.compress(text, level: 1) + Gzip.compress([7, 7, 7])]) { bytes in
            _ = try Gzip.decompress(bytes, name: "fuzz", limit: 1 << 24)
        }
    }

    static var safetensors: FuzzTarget {
        var file = Sequential.mlp(inputs: 6, hidden: [3], classes: 2).stateDict(metadata: ["format": "pt", "note": "seed"])
        file.set("steps", Safetensors.Entry(dtype: "I64", shape: [1], bytes: withUnsafeBytes(of: Int64(3).littleEndian, Array.init)))
        return FuzzTarget(name: "safetensors", seeds: [file.encoded(), Safetensors().encoded()]) { bytes in
            let parsed = try Safetensors.parse(bytes, name: "fuzz")
            for name in parsed.names { _ = parsed[name]?.floats() }
            // Loading into a model checks names and shapes; refusing a file there is a fine outcome too.
            try? Sequential.mlp(inputs: 6, hidden: [3], classes: 2).load(parsed, name: "fuzz")
        }
    }

    static var png: FuzzTarget {
        let seeds = [1, 2, 3, 4].map { channels in
            PNG.encode(Image(width: 5, height: 4, channels: channels, pixels: (0..<(20 * channels)).map { UInt8(truncatingIfNeeded: $0 * 37) }))
        }
        return FuzzTarget(name: "png", seeds: seeds) { bytes in
            _ = try PNG.decode(bytes, name: "fuzz").grayscale()
        }
    }

    static var pgm: FuzzTarget {
        let seeds = [Array("P5\n# c\n4 3\n255\n".utf8) + (0..<12).map { UInt8($0 * 20) },
                     Array("P2\n3 2\n65535\n0 1000 65535\n7 8 9\n".utf8),
                     Array("P5 2 2 65535\n".utf8) + [0, 1, 2, 3, 4, 5, 255, 255]]
        return FuzzTarget(name: "pgm", seeds: seeds) { bytes in
            _ = FashionInput.prepare(try FashionInput.decode(bytes, name: "fuzz"))
        }
    }

    static var studyFile: FuzzTarget {
        let texts = [
            #"{"name": "s", "base": {"optimizer": "adam", "lr": 0.001, "epochs": 2, "hidden": [32, 16], "scale": false}, "grid": {"batch-size": [32, 64], "seed": [1, 2]}}"#,
            #"{"grid": {"schedule": ["cosine", "step:2:0.5"], "momentum": [0.9], "nesterov": [true], "weight-decay": [0.0001]}}"#,
        ]
        return FuzzTarget(name: "study", seeds: texts.map { Array($0.utf8) }) { bytes in
            _ = try StudyFile.parse(Data(bytes), name: "fuzz")
        }
    }
}

/// Byte-level mutations of valid inputs: bit flips, interesting values (0, −1, 2³¹, sizes), truncation,
/// insertion, deletion, duplication and splicing, one to four at a time.
public struct Mutator {
    public var generator: SeededGenerator

    public init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    static let interesting32: [UInt32] = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 28, 784, 60000]

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(generator.next() % UInt64(n)) }

    public mutating func mutate(_ input: [UInt8], seeds: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            switch below(9) {
            case 0 where !bytes.isEmpty:
                bytes[below(bytes.count)] ^= UInt8(1) << UInt8(below(8))
            case 1 where !bytes.isEmpty:
                bytes[below(bytes.count)] = [0, 0xFF, 0x7F, 0x80, 0x01, 0x20, 0x22, 0x2C, 0x7B][below(9)]
            case 2 where bytes.count >= 4:
                let value = Self.interesting32[below(Self.interesting32.count)]
                let at = below(bytes.count - 3)
                let ordered = below(2) == 0 ? value.bigEndian : value.littleEndian
                withUnsafeBytes(of: ordered) { for i in 0..<4 { bytes[at + i] = $0[i] } }
            case 3:
                bytes = Array(bytes.prefix(below(bytes.count + 1)))
            case 4:
                let insert = (0..<(1 + below(16))).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                bytes.insert(contentsOf: insert, at: below(bytes.count + 1))
            case 5 where !bytes.isEmpty:
                let start = below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(32)))
            case 6 where !bytes.isEmpty:
                let start = below(bytes.count)
                let chunk = bytes[start..<min(bytes.count, start + 1 + below(64))]
                bytes.insert(contentsOf: chunk, at: below(bytes.count + 1))
            case 7 where !seeds.isEmpty:
                let other = seeds[below(seeds.count)]
                bytes = Array(bytes.prefix(below(bytes.count + 1))) + other.suffix(below(other.count + 1))
            default:
                if !bytes.isEmpty { bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: generator.next()) }
            }
        }
        return bytes
    }
}

/// Feeds `inputs` mutated inputs to `target` and counts how they were handled. A crash ends the
/// process (under AddressSanitizer with a report); the run is reproducible from `seed`.
public func fuzz(_ target: FuzzTarget, inputs: Int, seed: UInt64) -> FuzzReport {
    var mutator = Mutator(seed: seed)
    var corpus = target.seeds
    var accepted = 0, rejected = 0
    var slowest = 0.0
    let start = DispatchTime.now()
    for index in 0..<inputs {
        let base = corpus[mutator.below(corpus.count)]
        let input = index < target.seeds.count ? target.seeds[index] : mutator.mutate(base, seeds: target.seeds)
        let began = DispatchTime.now()
        do {
            try target.parse(input)
            accepted += 1
            // Accepted variants are new starting points (kept small and bounded).
            if corpus.count < 256, input.count < 4096 { corpus.append(input) }
        } catch {
            rejected += 1
        }
        slowest = max(slowest, Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    return FuzzReport(target: target.name, inputs: inputs, accepted: accepted, rejected: rejected, slowest: slowest, seconds: seconds)
}
