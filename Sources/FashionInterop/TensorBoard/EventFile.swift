import Foundation
import SwiftProtobuf

/// What went wrong writing TensorBoard's files, naming the file or directory.
public struct TensorBoardError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One TensorBoard event file, appended to as a run goes: TFRecord framing (the record's length as a little-endian
/// UInt64, the masked CRC-32C of those 8 bytes, the record, the masked CRC-32C of the record) around serialised
/// `Event` messages, the first of which says `brain.Event:2`.
///
/// The name is the one TensorBoard looks for: `events.out.tfevents.<seconds>.<host>.<process>.<n>`; TensorBoard reads
/// every such file of a directory as one run, in the order of their names (the time first).
final class EventFile {
    /// The file's path.
    let path: String
    private let handle: FileHandle

    /// Creates a new event file in `directory` (which must exist) and writes its version record.
    init(directory: String, now: Date = Date()) throws {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        let stem = "\(directory)/events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).\(ProcessInfo.processInfo.processIdentifier)"
        var number = 0
        while FileManager.default.fileExists(atPath: "\(stem).\(number)") { number += 1 }
        path = "\(stem).\(number)"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw TensorBoardError("--tensorboard: cannot create \(path): \(String(cString: strerror(errno)))")
        }
        self.handle = handle
        var version = Tensorboard_Event()
        version.wallTime = now.timeIntervalSince1970
        version.fileVersion = "brain.Event:2"
        try write([version])
    }

    deinit { try? handle.close() }

    /// Appends `events` in one write, so that a reader never sees half of them for long, and a killed process leaves
    /// at most one partial record at the end (which TensorBoard skips).
    func write(_ events: [Tensorboard_Event]) throws {
        var bytes: [UInt8] = []
        for event in events { Self.frame(try event.serializedBytes(), into: &bytes) }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: bytes)
        } catch {
            throw TensorBoardError("--tensorboard: cannot write \(path): \(Self.reason(error))")
        }
    }

    /// One TFRecord: length, its masked CRC, the data, its masked CRC (all little-endian).
    static func frame(_ record: [UInt8], into bytes: inout [UInt8]) {
        let length = withUnsafeBytes(of: UInt64(record.count).littleEndian, Array.init)
        bytes += length
        bytes += withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(length)).littleEndian, Array.init)
        bytes += record
        bytes += withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(record)).littleEndian, Array.init)
    }

    /// The events of the file at `path`, in order, up to the first record that is cut short or fails its checksum
    /// (what a process killed while writing leaves at the end). Throws when the file cannot be read.
    static func events(at path: String) throws -> [Tensorboard_Event] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func little<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
            bytes[offset..<offset + MemoryLayout<T>.size].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        var events: [Tensorboard_Event] = []
        var offset = 0
        while bytes.count - offset >= 12 {
            let length = little(UInt64.self, at: offset)
            guard little(UInt32.self, at: offset + 8) == CRC32C.masked(CRC32C.checksum(bytes[offset..<offset + 8])),
                  length <= UInt64(bytes.count - offset - 16) else { break }
            let record = bytes[offset + 12..<offset + 12 + Int(length)]
            guard little(UInt32.self, at: offset + 12 + Int(length)) == CRC32C.masked(CRC32C.checksum(record)),
                  let event = try? Tensorboard_Event(serializedBytes: Array(record)) else { break }
            events.append(event)
            offset += 16 + Int(length)
        }
        return events
    }

    /// The system's words for a file error (`No space left on device`), rather than Foundation's error number.
    static func reason(_ error: Error) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return error.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(error.code))) : error.localizedDescription
    }

    /// True for the names of TensorBoard event files (TensorBoard's own test: the name contains `tfevents`).
    static func isEventFile(_ name: String) -> Bool { name.contains("tfevents") }
}

extension Tensorboard_Event {
    /// An event of scalars and histograms at `step`.
    init(step: Int, wallTime: Double, values: [Tensorboard_Summary.Value]) {
        self.init()
        self.step = Int64(step)
        self.wallTime = wallTime
        summary.value = values
    }
}

extension Tensorboard_Summary.Value {
    /// A scalar (`simple_value`, a 32-bit float as TensorBoard stores it; NaN and infinities included).
    static func scalar(_ tag: String, _ value: Double) -> Self {
        var scalar = Self()
        scalar.tag = tag
        scalar.simpleValue = Float(value)
        return scalar
    }

    /// A histogram of `values`.
    static func histogram(_ tag: String, _ values: UnsafeBufferPointer<Float>) -> Self {
        var histogram = Self()
        histogram.tag = tag
        histogram.histo = Tensorboard_HistogramProto(values)
        return histogram
    }
}

extension Tensorboard_HistogramProto {
    /// Buckets of a histogram; TensorBoard's own display re-bins to 30.
    static let bucketCount = 30

    /// The histogram of the finite ones of `values` (TensorBoard has no place for NaN or infinities: a diverged
    /// run's histogram counts the weights still finite, and is empty when none is) in `bucketCount` buckets of equal
    /// width from the least value to the greatest: bucket i ends at `bucketLimit[i]` (a value on an inner edge counts
    /// in the bucket to its right), the last one at the greatest value.
    init(_ values: UnsafeBufferPointer<Float>) {
        self.init()
        var (least, greatest, count, sum, squares) = (Double.infinity, -Double.infinity, 0, 0.0, 0.0)
        for value in values where value.isFinite {
            let x = Double(value)
            least = Swift.min(least, x)
            greatest = Swift.max(greatest, x)
            count += 1
            sum += x
            squares += x * x
        }
        guard count > 0 else { return }
        (min, max, num, self.sum, sumSquares) = (least, greatest, Double(count), sum, squares)
        let buckets = greatest > least ? Self.bucketCount : 1
        let width = (greatest - least) / Double(buckets)
        bucketLimit = (1...buckets).map { $0 == buckets ? greatest : least + width * Double($0) }
        var counts = [Double](repeating: 0, count: buckets)
        for value in values where value.isFinite {
            let index = width > 0 ? Int((Double(value) - least) / width) : 0
            counts[Swift.min(index, buckets - 1)] += 1
        }
        bucket = counts
    }
}
