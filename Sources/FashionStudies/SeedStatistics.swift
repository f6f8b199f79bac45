import Foundation
import FashionCharts
import FashionTraining

/// The spread of one number over the seeds of a setting: mean, sample standard deviation, minimum and maximum.
public struct Spread: Sendable, Equatable {
    public let mean: Double
    /// The sample standard deviation (n − 1); 0 for a single value.
    public let standardDeviation: Double
    public let minimum: Double
    public let maximum: Double
    public let count: Int

    /// nil for no values, or any that is not finite (a diverged run has no spread to speak of).
    public init?(_ values: [Double]) {
        guard !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
        let n = values.count, average = values.reduce(0, +) / Double(values.count)
        (count, mean) = (n, average)
        standardDeviation = n > 1 ? (values.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(n - 1)).squareRoot() : 0
        (minimum, maximum) = (values.min()!, values.max()!)
    }

    /// True when the two ranges (minimum to maximum) overlap: a difference of means that the seeds alone could make.
    public func overlaps(_ other: Spread) -> Bool { minimum <= other.maximum && other.minimum <= maximum }
}

/// The runs of a study that share a setting and differ only in their seed.
public struct SettingGroup {
    public let label: String
    public let runs: [RunResult]

    /// The final epoch's value of each run, spread over the seeds.
    public func spread(_ value: (EpochMetrics) -> Double?) -> Spread? {
        Spread(runs.compactMap { $0.history.last.flatMap(value) })
    }
    public var trainAccuracy: Spread? { spread(\.trainAccuracy) }
    public var validationAccuracy: Spread? { spread(\.validationAccuracy) }
    public var validationLoss: Spread? { spread(\.validationLoss) }
    /// The test set measured once at the end of each run (runs with a validation split); nil when none was.
    public var testAccuracy: Spread? { Spread(runs.compactMap { $0.history.test?.accuracy }) }
    public var seeds: [UInt64] { runs.map(\.run.config.seed) }
}

extension StudyResult {
    /// The runs grouped by setting (their label), in the order the settings first appear.
    public var groups: [SettingGroup] {
        var order: [String] = []
        var byLabel: [String: [RunResult]] = [:]
        for run in runs {
            if byLabel[run.run.label] == nil { order.append(run.run.label) }
            byLabel[run.run.label, default: []].append(run)
        }
        return order.map { SettingGroup(label: $0, runs: byLabel[$0]!) }
    }

    /// True when some setting was run with more than one seed: the report then shows means and spreads.
    public var hasSeeds: Bool { groups.contains { $0.runs.count > 1 } }
}

extension Study {
    /// Every run repeated once per seed (the same label: the setting; the seed in the configuration).
    public func withSeeds(_ seeds: [UInt64]) -> Study {
        var copy = self
        copy.runs = runs.flatMap { run in
            seeds.map { seed in
                var repeated = run
                repeated.config.seed = seed
                return repeated
            }
        }
        return copy
    }
}


extension Language {
    /// `85.1% ± 0.3 (84.8–85.4%)`: mean ± standard deviation in points, then the range.
    func spreadOfPercent(_ spread: Spread?) -> String {
        guard let spread else { return "–" }
        guard spread.count > 1 else { return percent(spread.mean) }
        return "\(percent(spread.mean)) ± \(decimal(spread.standardDeviation * 100, digits: 1)) (\(decimal(spread.minimum * 100, digits: 1))–\(percent(spread.maximum)))"
    }

    /// `0.4123 ± 0.0051 (0.4071–0.4188)`.
    func spreadOfDecimal(_ spread: Spread?) -> String {
        guard let spread else { return "–" }
        guard spread.count > 1 else { return decimal(spread.mean, digits: 4) }
        return "\(decimal(spread.mean, digits: 4)) ± \(decimal(spread.standardDeviation, digits: 4)) (\(decimal(spread.minimum, digits: 4))–\(decimal(spread.maximum, digits: 4)))"
    }

    var seedTableHeaders: [String] {
        t(["setting", "seeds", "train acc (mean ± sd, min–max)", "val acc (mean ± sd, min–max)", "val loss (mean ± sd, min–max)", "time"],
          ["thiết lập", "seed", "độ chính xác huấn luyện", "độ chính xác kiểm định", "mất mát kiểm định", "thời gian"])
    }
}

extension SettingGroup {
    /// The group's curves: the mean of its seeds per epoch, with the validation curves' range as a band.
    var curves: RunCurves {
        let epochs = runs.map { $0.history.epochs.count }.min() ?? 0
        func perEpoch(_ value: (EpochMetrics) -> Double?) -> [Spread?] {
            (0..<epochs).map { e in Spread(runs.compactMap { value($0.history.epochs[e]) }) }
        }
        let (trainLoss, trainAccuracy) = (perEpoch(\.trainLoss), perEpoch(\.trainAccuracy))
        let (validationLoss, validationAccuracy) = (perEpoch(\.validationLoss), perEpoch(\.validationAccuracy))
        var curves = RunCurves(label: "\(label) (\(runs.count) seeds)", trainLoss: trainLoss.map { $0?.mean ?? .nan },
                               validationLoss: validationLoss.map { $0?.mean ?? .nan }, trainAccuracy: trainAccuracy.map { $0?.mean ?? .nan },
                               validationAccuracy: validationAccuracy.map { $0?.mean ?? .nan })
        curves.validationLossBand = validationLoss.map { $0.map { ($0.minimum, $0.maximum) } ?? (.nan, .nan) }
        curves.validationAccuracyBand = validationAccuracy.map { $0.map { ($0.minimum, $0.maximum) } ?? (.nan, .nan) }
        return curves
    }
}

/// What `train --seeds` prints at the end: each number of the last epoch (and the test set's, measured once) as
/// mean ± standard deviation (min–max) over the seeds.
public struct SeedSummary: Encodable {
    public let seeds: [UInt64]
    public let trainAccuracy: SpreadValues?
    public let validationAccuracy: SpreadValues?
    public let validationLoss: SpreadValues?
    public let testAccuracy: SpreadValues?
    /// Each seed's final weights (`Sequential.weightsDigest`), in seed order.
    public let weightsSHA256: [String]
    private let language = Language.english
    private let spreads: (train: Spread?, validation: Spread?, loss: Spread?, test: Spread?)

    /// A spread as JSON: `{"mean": …, "sd": …, "min": …, "max": …}`.
    public struct SpreadValues: Encodable {
        public let mean, sd, min, max: Double
        init?(_ spread: Spread?) {
            guard let spread else { return nil }
            (mean, sd, min, max) = (spread.mean, spread.standardDeviation, spread.minimum, spread.maximum)
        }
    }

    public init(_ group: SettingGroup) {
        seeds = group.seeds
        spreads = (group.trainAccuracy, group.validationAccuracy, group.validationLoss, group.testAccuracy)
        (trainAccuracy, validationAccuracy) = (SpreadValues(spreads.train), SpreadValues(spreads.validation))
        (validationLoss, testAccuracy) = (SpreadValues(spreads.loss), SpreadValues(spreads.test))
        weightsSHA256 = group.runs.map { $0.model?.weightsDigest ?? "" }
    }

    private enum CodingKeys: String, CodingKey { case seeds, trainAccuracy, validationAccuracy, validationLoss, testAccuracy, weightsSHA256 }

    /// `Over seeds 0, 1, 2 (mean ± sd, min–max):`, then a line per number.
    public var lines: [String] {
        var lines = ["Over seeds \(seeds.map(String.init).joined(separator: ", ")) (mean ± sd, min–max):",
                     "  train accuracy       \(language.spreadOfPercent(spreads.train))",
                     "  validation accuracy  \(language.spreadOfPercent(spreads.validation))",
                     "  validation loss      \(language.spreadOfDecimal(spreads.loss))"]
        if spreads.test != nil { lines.append("  test accuracy        \(language.spreadOfPercent(spreads.test)) (measured once per seed)") }
        lines += zip(seeds, weightsSHA256).map { "  seed \($0): weights SHA-256 \($1)" }
        return lines
    }
}
