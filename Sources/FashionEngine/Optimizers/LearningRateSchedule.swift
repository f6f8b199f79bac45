import Foundation

/// How the learning rate changes from epoch to epoch (applied at the start of each epoch).
public enum LearningRateSchedule: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The base rate throughout.
    case constant
    /// Multiplied by `gamma` every `every` epochs (`StepLR`).
    case step(every: Int, gamma: Float)
    /// Cosine annealing from the base rate to `minimum` over the run (`CosineAnnealingLR`, T_max = epochs).
    case cosine(minimum: Float)

    /// The rate for `epoch` (0-based) of `epochs`.
    public func rate(base: Float, epoch: Int, epochs: Int) -> Float {
        switch self {
        case .constant:
            return base
        case let .step(every, gamma):
            return base * pow(gamma, Float(epoch / max(1, every)))
        case let .cosine(minimum):
            let progress = Double(epoch) / Double(max(1, epochs))
            return minimum + (base - minimum) * Float((1 + cos(Double.pi * progress)) / 2)
        }
    }

    public var description: String {
        switch self {
        case .constant: "constant"
        case let .step(every, gamma): "step:\(every):\(gamma)"
        case let .cosine(minimum): minimum == 0 ? "cosine" : "cosine:\(minimum)"
        }
    }

    /// Parses `constant`, `step:EVERY:GAMMA` (e.g. `step:2:0.5`) or `cosine[:MIN]`.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":").map(String.init)
        switch parts.first {
        case "constant" where parts.count == 1:
            self = .constant
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every > 0, let gamma = Float(parts[2]), gamma > 0 else { return nil }
            self = .step(every: every, gamma: gamma)
        case "cosine" where parts.count <= 2:
            let minimum = parts.count == 2 ? Float(parts[1]) : 0
            guard let minimum, minimum >= 0 else { return nil }
            self = .cosine(minimum: minimum)
        default:
            return nil
        }
    }
}
