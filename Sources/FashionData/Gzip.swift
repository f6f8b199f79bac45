import CZlib

/// gzip decompression on zlib.
public enum Gzip {
    /// True when `bytes` starts with the gzip magic number 1f 8b.
    public static func hasMagic<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        var iterator = bytes.makeIterator()
        return iterator.next() == 0x1f && iterator.next() == 0x8b
    }

    /// Decompresses a complete gzip file (one or more members).
    ///
    /// - Parameters:
    ///   - input: the compressed bytes.
    ///   - name: the file name used in error messages.
    ///   - limit: the largest output accepted; a stream that inflates beyond it is refused
    ///     before more memory is taken.
    /// - Throws: `DataError` for input that is not gzip, is corrupt, truncated,
    ///   followed by trailing bytes, or inflates beyond `limit`.
    public static func decompress(_ input: [UInt8], name: String, limit: Int = 1 << 30) throws -> [UInt8] {
        guard hasMagic(input) else {
            throw DataError(name, "not a gzip file (the first bytes are not 1f 8b)")
        }
        var stream = z_stream()
        // 16 + 15: a gzip wrapper around a deflate stream with the largest window.
        guard inflateInit2_(&stream, 16 + 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(name, "zlib could not be initialised")
        }
        defer { inflateEnd(&stream) }

        var output = [UInt8]()
        output.reserveCapacity(min(expectedSize(of: input), limit))
        // Small inputs get a small buffer: clearing a megabyte per call would dominate them.
        var chunk = [UInt8](repeating: 0, count: min(1 << 20, max(1 << 12, input.count * 8)))

        try input.withUnsafeBufferPointer { inputBuffer in
            stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
            stream.avail_in = UInt32(inputBuffer.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { chunkBuffer -> Int32 in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = UInt32(chunkBuffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > limit {
                    throw DataError(name, "decompresses to more than \(limit) bytes; refusing to continue")
                }
                output.append(contentsOf: chunk[0..<produced])

                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let remaining = Int(stream.avail_in)
                    if remaining == 0 { return }
                    let offset = inputBuffer.count - remaining
                    // A file may hold several gzip members back to back; anything else is garbage.
                    guard hasMagic(inputBuffer[offset...]) else {
                        throw DataError(name, "\(remaining) trailing bytes after the end of the gzip stream")
                    }
                    inflateReset(&stream)
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw DataError(name, "truncated gzip stream (the file ends before the compressed data does)")
                case Z_DATA_ERROR, Z_NEED_DICT:
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    throw DataError(name, "corrupt gzip stream (\(reason))")
                case Z_MEM_ERROR:
                    throw DataError(name, "out of memory while decompressing")
                default:
                    throw DataError(name, "gzip decompression failed (zlib status \(status))")
                }
            }
        }
        return output
    }

    /// The size the gzip trailer claims (modulo 2^32), used only as a capacity hint.
    private static func expectedSize(of input: [UInt8]) -> Int {
        guard input.count >= 18 else { return 0 }
        let n = input.count
        return Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
    }

    /// Compresses `input` as a single gzip member (used by tests and tools that write IDX files).
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(&stream, level, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY,
                      zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                _ = deflate(&stream, Z_FINISH)
            }
        }
        output.removeLast(Int(stream.avail_out))
        return output
    }
}

/// gzip decompression fed piece by piece (a download as it arrives): each `feed` hands the bytes it
/// inflates to a closure, so nothing is held but zlib's window and one output chunk.
public final class GzipStreamInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    /// The file name used in error messages.
    public let name: String
    /// True between members: at the start, and after a member's end.
    private var atMemberBoundary = true
    private var sawInput = false
    /// Decompressed bytes produced so far.
    public private(set) var produced = 0

    public init(name: String) throws {
        self.name = name
        // A z_stream must not move once initialised (zlib keeps a pointer back to it), hence the heap.
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard inflateInit2_(stream, 16 + 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw DataError(name, "zlib could not be initialised")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates `input`, passing each piece of output to `output` (which may throw to stop).
    public func feed(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        if !sawInput {
            sawInput = true
            guard input[0] == 0x1f else { throw DataError(name, "not a gzip file (the first bytes are not 1f 8b)") }
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        while stream.pointee.avail_in > 0 {
            let startingMember = atMemberBoundary
            atMemberBoundary = false
            let status = chunk.withUnsafeMutableBufferPointer { buffer -> Int32 in
                stream.pointee.next_out = buffer.baseAddress
                stream.pointee.avail_out = UInt32(buffer.count)
                return inflate(stream, Z_NO_FLUSH)
            }
            let count = chunk.count - Int(stream.pointee.avail_out)
            if count > 0 {
                produced += count
                try chunk.withUnsafeBytes { try output(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
            switch status {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                atMemberBoundary = true
                inflateReset(stream)
            case Z_DATA_ERROR where startingMember && produced > 0:
                throw DataError(name, "trailing bytes after the end of the gzip stream")
            case Z_DATA_ERROR, Z_NEED_DICT:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
                throw DataError(name, "corrupt gzip stream (\(reason))")
            case Z_MEM_ERROR:
                throw DataError(name, "out of memory while decompressing")
            default:
                throw DataError(name, "gzip decompression failed (zlib status \(status))")
            }
        }
    }

    /// Checks that the input ended where a gzip member ends.
    public func finish() throws {
        guard sawInput else { throw DataError(name, "empty file (no gzip data)") }
        guard atMemberBoundary else {
            throw DataError(name, "truncated gzip stream (the file ends before the compressed data does)")
        }
    }
}
