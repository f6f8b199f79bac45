import Foundation

/// How the learning rate changes over a run: from epoch to epoch (applied at the start of each epoch), or
/// for `oneCycle` from step to step.
public enum LearningRateSchedule: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The base rate throughout.
    case constant
    /// Multiplied by `gamma` every `every` epochs (`StepLR`).
    case step(every: Int, gamma: Float)
    /// Cosine annealing from the base rate to `minimum` over the run (`CosineAnnealingLR`, T_max = epochs).
    case cosine(minimum: Float)
    /// One cycle, set every step (`OneCycleLR` with cosine annealing, `div_factor` 25, `final_div_factor` 10⁴,
    /// `cycle_momentum=False`): from base/25 up to the base rate over the first `warmup` fraction of the
    /// steps, then down to base/25/10⁴ at the last step.
    case oneCycle(warmup: Float)

    /// True when the rate changes every step (`rate(base:step:steps:)`), not every epoch.
    public var isPerStep: Bool {
        if case .oneCycle = self { return true }
        return false
    }

    /// The rate for `step` (0-based) of `steps` for per-step schedules; for the others, the rate of the
    /// epoch that step falls in.
    public func rate(base: Float, step: Int, steps: Int, epochs: Int) -> Float {
        guard case let .oneCycle(warmup) = self else {
            return rate(base: base, epoch: step * epochs / max(1, steps), epochs: epochs)
        }
        let initial = base / 25, final = initial / 10_000
        // PyTorch's phase boundaries: the peak at step warmup·steps − 1, the end at steps − 1.
        let peak = Double(warmup) * Double(steps) - 1
        func annealed(from start: Float, to end: Float, _ fraction: Double) -> Float {
            end + (start - end) * Float((1 + cos(Double.pi * fraction)) / 2)
        }
        if Double(step) <= peak {
            return annealed(from: initial, to: base, peak > 0 ? Double(step) / peak : 1)
        }
        let length = Double(steps - 1) - peak
        return annealed(from: base, to: final, length > 0 ? (Double(step) - peak) / length : 1)
    }

    /// The rate for `epoch` (0-based) of `epochs` (for `oneCycle`: at the epoch's first step, with one step per epoch).
    public func rate(base: Float, epoch: Int, epochs: Int) -> Float {
        switch self {
        case .oneCycle:
            return rate(base: base, step: epoch, steps: epochs, epochs: epochs)
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
        case let .oneCycle(warmup): warmup == 0.3 ? "onecycle" : "onecycle:\(warmup)"
        }
    }

    /// Parses `constant`, `step:EVERY:GAMMA` (e.g. `step:2:0.5`), `cosine[:MIN]` or `onecycle[:WARMUP]`
    /// (warmup fraction, default 0.3 as PyTorch's `pct_start`).
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
        case "onecycle" where parts.count <= 2:
            let warmup = parts.count == 2 ? Float(parts[1]) : 0.3
            guard let warmup, warmup > 0, warmup < 1 else { return nil }
            self = .oneCycle(warmup: warmup)
        default:
            return nil
        }
    }
}
