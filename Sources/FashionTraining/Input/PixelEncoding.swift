import FashionData

/// How a pixel byte becomes a model input: `v / 255` (scaled) or `v` (raw), then optionally
/// `(x − mean) / std` (torchvision's `Normalize`). The same encoding is used for training,
/// evaluation and prediction, so a run's configuration carries it.
public struct PixelEncoding: Codable, Sendable, Equatable {
    /// Divide by 255 first.
    public var scale: Bool
    /// Mean and standard deviation of the (scaled) training pixels, when normalising.
    public var normalization: Normalization?

    /// The mean and standard deviation that `Normalize` subtracts and divides by.
    public struct Normalization: Codable, Sendable, Equatable {
        public var mean: Float
        public var std: Float
        public init(mean: Float, std: Float) {
            self.mean = mean
            self.std = std
        }

        /// Mean and (population) standard deviation of every pixel of `dataset`, after scaling.
        public static func measured(on dataset: Dataset, scale: Bool) -> Normalization {
            var histogram = [Int](repeating: 0, count: 256)
            for pixel in dataset.images { histogram[Int(pixel)] += 1 }
            let total = Double(dataset.images.count)
            let divisor = scale ? 255.0 : 1.0
            var sum = 0.0, squares = 0.0
            for (value, count) in histogram.enumerated() {
                let x = Double(value) / divisor
                sum += x * Double(count)
                squares += x * x * Double(count)
            }
            let mean = sum / total
            return Normalization(mean: Float(mean), std: Float((squares / total - mean * mean).squareRoot()))
        }
    }

    public init(scale: Bool, normalization: Normalization? = nil) {
        self.scale = scale
        self.normalization = normalization
    }

    /// The input value of each byte 0…255, computed in Float as PyTorch does (`x.float() / 255`, then
    /// `(x − mean) / std`).
    public var table: [Float] {
        (0..<256).map { byte in
            let x = scale ? Float(byte) / 255 : Float(byte)
            guard let normalization else { return x }
            return (x - normalization.mean) / normalization.std
        }
    }
}
