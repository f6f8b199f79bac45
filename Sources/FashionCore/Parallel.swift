import Dispatch

/// Runs `body` for `0..<count` on all cores and returns the results in order.
/// Errors thrown by any iteration are rethrown (the first by index).
public func parallelMap<T>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
    var results = [Result<T, Error>?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { slots in
        nonisolated(unsafe) let slots = slots
        DispatchQueue.concurrentPerform(iterations: count) { index in
            slots[index] = Result { try body(index) }
        }
    }
    return try results.map { try $0!.get() }
}
