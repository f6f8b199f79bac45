extension CUDADevice {
    /// Softmax cross-entropy of `rows` rows of `classes` logits on the GPU (`SoftmaxCrossEntropy`'s twin):
    /// adds each sample's loss times `scale` to the `Double` in `lossSum` and the number of rows predicted
    /// right to the `UInt32` in `correct`; when `gradient` is given, writes (softmax − target) · scale there.
    /// Training passes scale = 1/rows (the batch mean and its gradient), evaluation 1 (the sum).
    public func softmaxCrossEntropy(logits: UInt64, labels: DeviceBuffer, rows: Int, classes: Int, gradient: DeviceBuffer?,
                                    lossSum: DeviceBuffer, correct: DeviceBuffer, scale: Float, labelSmoothing: Float = 0) throws {
        try launch("softmax_cross_entropy", covering: rows, [
            .address(logits), .buffer(labels), .buffer(gradient), .buffer(lossSum), .buffer(correct),
            .int(rows), .int(classes), .float(scale), .float(labelSmoothing),
        ])
    }
}
