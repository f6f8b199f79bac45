import CKernels
import FashionCore
import Foundation

/// This machine's FMA peak: what a loop of independent FMAs on registers reaches on every core at once. It is
/// the ceiling a GEMM-bound figure is measured against (`fashionlab bench` prints each as a fraction of it).
public enum FMAPeak {
    /// Floating-point operations per second of the loop on all `Threads.count` threads at once, the best of
    /// `rounds` of about `seconds` each; nil where the CPU has no AVX-512 (the loop is written with it).
    public static func measure(seconds: Double = 0.25, rounds: Int = 3) -> Double? {
        guard fl_gemm_available() != 0 else { return nil }
        // Iterations for about `seconds` on one core, from a short first try.
        let trial = 1 << 16
        let trialSeconds = max(1e-6, time { _ = loop(trial) })
        let iterations = max(trial, Int(Double(trial) * seconds / trialSeconds))
        let threads = Threads.count
        var best = 0.0
        for _ in 0..<rounds {
            var flops = 0.0
            let elapsed = time {
                nonisolated(unsafe) var done = [Double](repeating: 0, count: threads)
                done.withUnsafeMutableBufferPointer { done in
                    nonisolated(unsafe) let done = done
                    parallelFor(threads, minimumChunk: 1) { range in
                        for thread in range { done[thread] = loop(iterations) }
                    }
                }
                flops = done.reduce(0, +)
            }
            best = max(best, flops / elapsed)
        }
        return best
    }

    private static func loop(_ iterations: Int) -> Double {
        var sink: Float = 0
        return fl_fma_loop(iterations, &sink)
    }

    private static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now()
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
