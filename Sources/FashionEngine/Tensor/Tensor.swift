/// A contiguous, row-major array of `Float`s with a shape.
///
/// A tensor owns 64-byte aligned memory of a fixed `capacity`; its `shape` may change as long as it
/// fits, so buffers sized once for the largest batch are reused for smaller ones without allocating.
public final class Tensor: @unchecked Sendable {
    /// The dimensions, outermost first (`[batch, features]` for activations, `[out, in]` for Linear weights).
    public private(set) var shape: [Int]
    /// How many elements the memory holds.
    public let capacity: Int
    /// The first element.
    public let data: UnsafeMutablePointer<Float>

    /// A zero-filled tensor; `capacity` defaults to the shape's element count.
    public init(shape: [Int], capacity: Int? = nil) {
        let count = shape.reduce(1, *)
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.capacity = max(capacity ?? count, count, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: self.capacity * MemoryLayout<Float>.stride, alignment: 64)
        data = raw.initializeMemory(as: Float.self, repeating: 0, count: self.capacity)
    }

    /// A tensor holding `values` (row-major) with `shape`.
    public convenience init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { data.deallocate() }

    /// Number of elements in the current shape.
    public var count: Int { shape.reduce(1, *) }

    /// The elements of the current shape.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// Changes the shape in place; the new shape must fit the capacity.
    public func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) <= capacity, "shape \(newShape) does not fit capacity \(capacity)")
        shape = newShape
    }

    /// The elements as an array.
    public func toArray() -> [Float] { Array(buffer) }

    /// Copies `values` in; their count must equal `count`.
    public func copy(from values: [Float]) {
        precondition(values.count == count, "\(values.count) values for a tensor of \(count)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Sets every element of the current shape to `value`.
    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    /// `existing` reshaped to `shape` when it is big enough, otherwise a new tensor:
    /// how layers keep one activation buffer per batch size without allocating every step.
    public static func reuse(_ existing: Tensor?, shape: [Int]) -> Tensor {
        if let existing, existing.capacity >= shape.reduce(1, *) {
            existing.reshape(shape)
            return existing
        }
        return Tensor(shape: shape)
    }
}

/// Class labels of a batch as `Int32`s, sized once and reused like `Tensor`.
public final class LabelBuffer: @unchecked Sendable {
    public private(set) var count: Int
    public let capacity: Int
    public let data: UnsafeMutablePointer<Int32>

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        self.count = capacity
        data = .allocate(capacity: self.capacity)
        data.initialize(repeating: 0, count: self.capacity)
    }

    public convenience init(_ values: [Int32]) {
        self.init(capacity: values.count)
        for (i, value) in values.enumerated() { data[i] = value }
    }

    deinit { data.deallocate() }

    public func resize(_ newCount: Int) {
        precondition(newCount <= capacity, "\(newCount) labels do not fit capacity \(capacity)")
        count = newCount
    }

    public var buffer: UnsafeMutableBufferPointer<Int32> { UnsafeMutableBufferPointer(start: data, count: count) }
}
