extension Flatten: CUDARunnable {
    /// The memory is already laid out as the next layer wants it: both directions pass through.
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer { CUDAFlatten() }
}

final class CUDAFlatten: CUDALayer {
    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 { input }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
        needsInputGradient ? outputGradient : nil
    }
}
