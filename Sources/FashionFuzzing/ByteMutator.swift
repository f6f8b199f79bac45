import FashionCore

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

extension Mutator {
    /// One of `choices`, uniformly.
    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }

    /// True one time in `n`.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }
}
