/// Updates parameters from their gradients (PyTorch semantics, see each optimiser).
public protocol Optimizer: AnyObject {
    /// The learning rate of the next step (schedules change it between epochs).
    var learningRate: Float { get set }
    /// Applies one update to every parameter from its current gradient.
    func step(_ parameters: [Parameter])
    /// The optimiser's per-parameter state, by name (`0.weight.momentum_buffer`, `0.weight.exp_avg`, …),
    /// and its step count: what a checkpoint needs to resume.
    var state: [String: Tensor] { get }
    var stepCount: Int { get }
    /// Restores what `state` and `stepCount` returned, for `parameters` (the model's): every state tensor must
    /// belong to one of them by name and have its shape, so a checkpoint that lies cannot make a step write
    /// past a buffer.
    func restore(state: [String: Tensor], stepCount: Int, parameters: [Parameter]) throws
    /// A short description, e.g. `Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08)`.
    var summary: String { get }
}

/// The optimiser's state could not be restored from a checkpoint.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

/// Per-parameter state tensors keyed by parameter name, created on first use.
struct StateSlots {
    private(set) var tensors: [String: Tensor] = [:]

    mutating func slot(_ key: String, like parameter: Parameter) -> (tensor: Tensor, isNew: Bool) {
        if let existing = tensors[key] { return (existing, false) }
        let tensor = Tensor(shape: parameter.value.shape)
        tensors[key] = tensor
        return (tensor, true)
    }

    mutating func restore(_ state: [String: Tensor], expecting suffixes: [String], for parameters: [Parameter]) throws {
        let shapes = Dictionary(parameters.map { ($0.name, $0.value.shape) }, uniquingKeysWith: { first, _ in first })
        for (key, tensor) in state.sorted(by: { $0.key < $1.key }) {
            guard let suffix = suffixes.first(where: key.hasSuffix) else {
                throw OptimizerStateError(description: "unexpected optimiser state '\(key)' with shape \(tensor.shape)")
            }
            let name = String(key.dropLast(suffix.count))
            guard let shape = shapes[name] else {
                throw OptimizerStateError(description: "optimiser state '\(key)' belongs to no parameter of the model")
            }
            guard tensor.shape == shape else {
                throw OptimizerStateError(description: "optimiser state '\(key)' has shape \(tensor.shape), but parameter \(name) has \(shape)")
            }
        }
        tensors = state
    }
}
