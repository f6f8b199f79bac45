extension ReLU: CUDARunnable {
    func makeCUDALayer(inputShape: [Int], context: CUDALayerContext) throws -> CUDALayer {
        try context.device.load(.core)
        return CUDAReLU(self, size: inputShape.reduce(1, *), device: context.device)
    }
}

/// `ReLU` on the GPU; passes through when the layer before applies it (`isAppliedByPreviousLayer`).
final class CUDAReLU: CUDALayer {
    let layer: ReLU
    let size: Int
    let work: CUDAWorkspace
    private var output: UInt64 = 0

    init(_ layer: ReLU, size: Int, device: CUDADevice) {
        self.layer = layer
        self.size = size
        work = CUDAWorkspace(device: device)
    }

    func forward(_ input: UInt64, rows: Int, training: Bool) throws -> UInt64 {
        if layer.isAppliedByPreviousLayer { return input }
        output = try work.buffer("output", rows * size).address
        try work.device.launch("relu_forward", covering: rows * size, [.address(output), .address(input), .long(rows * size)])
        return output
    }

    func backward(_ outputGradient: UInt64, rows: Int, needsInputGradient: Bool, sgdRate: Float?) throws -> UInt64? {
        guard needsInputGradient else { return nil }
        if layer.isAppliedByPreviousLayer { return outputGradient }
        let dx = try work.buffer("inputGradient", rows * size).address
        try work.device.launch("relu_backward", covering: rows * size, [.address(dx), .address(outputGradient), .address(output), .long(rows * size)])
        return dx
    }
}
