import Dispatch
import Foundation

/// How many threads FashionLab's own loops use (default: all cores).
public enum Threads {
    nonisolated(unsafe) private static var configured = ProcessInfo.processInfo.activeProcessorCount
    /// The thread count for `parallelFor`; set it once, before training starts.
    public static var count: Int {
        get { configured }
        set { configured = max(1, newValue) }
    }
}

/// Splits `0..<count` into contiguous chunks of at least `minimumChunk` and runs them on up to
/// `Threads.count` threads. Small loops run inline: spawning costs more than it saves.
@inline(__always)
public func parallelFor(_ count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void) {
    let chunks = min(Threads.count, max(1, count / max(1, minimumChunk)))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            body(start..<end)
        }
    }
}
