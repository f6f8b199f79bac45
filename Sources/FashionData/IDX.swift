/// An array read from an IDX file: its dimensions and its raw unsigned bytes, row-major.
public struct IDXArray: Sendable {
    /// The sizes of each dimension, outermost first (`[60000, 28, 28]` for training images).
    public let dimensions: [Int]
    /// The elements, row-major.
    public let bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// The IDX magic number of this array: 0x0000_08 followed by the number of dimensions.
    public var magic: UInt32 { 0x0000_0800 | UInt32(dimensions.count) }

    /// The file's bytes: big-endian header, then the payload.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions { out += withUnsafeBytes(of: UInt32(d).bigEndian, Array.init) }
        return out + bytes
    }
}

/// Reading the IDX format (big-endian header: two zero bytes, a type byte, a dimension count,
/// one 32-bit size per dimension; then the raw elements). Only unsigned bytes (type 0x08),
/// the type Fashion-MNIST uses, are accepted.
public enum IDX {
    /// Parses IDX bytes, plain or gzip-compressed.
    ///
    /// - Parameters:
    ///   - data: the file's bytes.
    ///   - name: the file name used in error messages.
    ///   - expectedMagic: when set, any other magic number is an error (0x803 for images, 0x801 for labels).
    public static func parse(_ data: [UInt8], name: String, expectedMagic: UInt32? = nil) throws -> IDXArray {
        let raw = Gzip.hasMagic(data) ? try Gzip.decompress(data, name: name) : data
        return try parseRaw(raw, name: name, expectedMagic: expectedMagic)
    }

    /// Parses decompressed IDX bytes.
    public static func parseRaw(_ raw: [UInt8], name: String, expectedMagic: UInt32? = nil) throws -> IDXArray {
        guard raw.count >= 4 else {
            throw DataError(name, "too short for an IDX header (\(raw.count) bytes)")
        }
        let magic = readBigEndian(raw, at: 0)
        if let expectedMagic, magic != expectedMagic {
            throw DataError(name, "wrong magic number \(hex(magic)), expected \(hex(expectedMagic)) (\(describe(expectedMagic)))")
        }
        guard raw[0] == 0, raw[1] == 0 else {
            throw DataError(name, "not an IDX file (magic number \(hex(magic)) does not start with two zero bytes)")
        }
        guard raw[2] == 0x08 else {
            throw DataError(name, "unsupported IDX element type 0x\(String(raw[2], radix: 16)) (only unsigned bytes, 0x08, are supported)")
        }
        let dimensionCount = Int(raw[3])
        guard dimensionCount >= 1 else { throw DataError(name, "IDX header declares no dimensions") }
        let headerSize = 4 + 4 * dimensionCount
        guard raw.count >= headerSize else {
            throw DataError(name, "truncated IDX header: \(dimensionCount) dimensions need \(headerSize) bytes, the file has \(raw.count)")
        }
        let dimensions = (0..<dimensionCount).map { Int(readBigEndian(raw, at: 4 + 4 * $0)) }
        // Every product of dimensions must fit, not only the whole payload's: with a count of 0 the payload
        // is 0 bytes whatever the other sizes, but a reader still multiplies rows by columns.
        var nonZeroProduct = 1
        for size in dimensions where size > 0 {
            let (product, overflow) = nonZeroProduct.multipliedReportingOverflow(by: size)
            guard !overflow else { throw DataError(name, "IDX dimensions \(dimensions) overflow") }
            nonZeroProduct = product
        }
        let payloadSize = dimensions.contains(0) ? 0 : nonZeroProduct
        let available = raw.count - headerSize
        if available < payloadSize {
            throw DataError(name, "truncated payload: dimensions \(dimensions) need \(payloadSize) bytes, the file has \(available)")
        }
        if available > payloadSize {
            throw DataError(name, "\(available - payloadSize) trailing bytes after the \(payloadSize)-byte payload of dimensions \(dimensions)")
        }
        return IDXArray(dimensions: dimensions, bytes: Array(raw[headerSize...]))
    }

    private static func readBigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    private static func describe(_ magic: UInt32) -> String {
        switch magic {
        case 0x803: "images"
        case 0x801: "labels"
        default: "\(magic & 0xff) dimensions of unsigned bytes"
        }
    }
}
