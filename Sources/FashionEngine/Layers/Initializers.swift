import FashionCore

/// Weight initialisers with PyTorch's distributions.
public enum Initializers {
    /// Values ~ U(−bound, bound): PyTorch's default for `nn.Linear` and `nn.Conv2d` weights and biases
    /// (kaiming_uniform with a = √5 gives bound = 1/√fan_in).
    public static func uniform(shape: [Int], bound: Float, using generator: inout SeededGenerator) -> Tensor {
        let tensor = Tensor(shape: shape)
        for i in 0..<tensor.count {
            tensor.data[i] = (generator.nextUnitFloat() * 2 - 1) * bound
        }
        return tensor
    }
}
