import CKernels
import Foundation

/// How many threads FashionLab's own loops use (default: all cores).
public enum Threads {
    nonisolated(unsafe) private static var configured = ProcessInfo.processInfo.activeProcessorCount
    /// The most threads `--threads` may ask for (far above any core count a training run profits from).
    public static let maximum = 1024
    /// The thread count for `parallelFor` (clamped to 1…`maximum`); set it once, before training starts.
    public static var count: Int {
        get { configured }
        set { configured = min(max(1, newValue), maximum) }
    }
}

/// Splits `0..<count` into contiguous chunks of at least `minimumChunk` and runs them on up to
/// `Threads.count` threads (a pool whose workers spin briefly between jobs, so a training step can
/// hand out work several times without paying for thread wake-ups). Small loops run inline.
@inline(__always)
public func parallelFor(_ count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void) {
    let chunks = min(Threads.count, max(1, count / max(1, minimumChunk)))
    if chunks <= 1 {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        var job = ParallelJob(count: count, chunks: chunks, body: body)
        withUnsafeMutablePointer(to: &job) { pointer in
            fl_parallel_run(chunks, { context, chunk in
                let job = context!.assumingMemoryBound(to: ParallelJob.self)
                let start = job.pointee.count * chunk / job.pointee.chunks
                let end = job.pointee.count * (chunk + 1) / job.pointee.chunks
                job.pointee.body(start..<end)
            }, pointer, Int32(chunks))
        }
    }
}

private struct ParallelJob {
    let count: Int
    let chunks: Int
    let body: (Range<Int>) -> Void
}
