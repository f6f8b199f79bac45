import FashionEngine

/// One training setting, declared once (`TrainingSetting.all`): its `train` flag, which is also its study-file key;
/// where `metrics.json` stores it; its help text; whether a recipe sets it; how a given value is read; and the
/// bounds a run's value must keep. The command line's options, the study-file reader, the recipe check,
/// `TrainingConfig.validate()`'s problem names and the fuzzer's keys are all derived from the table.
public struct TrainingSetting: Sendable, Identifiable {
    /// What a recipe (`--recipe`) does with a setting.
    public enum RecipeRole: Sendable {
        /// The recipe leaves it to the user (`--seed`, `--subset`, the validation flags).
        case left
        /// The recipe sets it, and giving it beside `--recipe` is refused.
        case set
        /// The recipe sets it, and a value given beside `--recipe` replaces the recipe's (`--lr`, `--epochs`).
        case replaceable
    }

    /// `train`'s flag without the dashes, and the key of a study file's `base` and `grid`: `lr`.
    public let flag: String
    /// Where `metrics.json`, checkpoints and the web API store it (`TrainingConfig`'s coding key): `learningRate`.
    public let key: String
    /// The placeholder of its value in help: `LR`; nil for an on/off switch.
    public let valueName: String?
    /// What it does, for `--help` and the documentation (the default is added by `helpText`).
    public let help: String
    public let recipe: RecipeRole
    /// Reads a given value into the settings (the value's kind only: bounds are `problem`'s).
    let read: @Sendable (inout TrainingSettings, SettingValue) throws(SettingValueMismatch) -> Void
    /// The value in `settings` as a flag's value, nil when it is not set.
    let value: @Sendable (TrainingSettings) -> String?
    /// What is wrong with a run's value of this setting (out of bounds, not finite), or nil.
    let problem: @Sendable (TrainingConfig) -> String?

    public var id: String { flag }

    /// True for an on/off switch (`--nesterov`), which takes no value on the command line.
    public var isSwitch: Bool { valueName == nil }

    /// `help`, with the default when it has one worth saying (`Training batch size (default: 32).`).
    public var helpText: String {
        guard !isSwitch, let standard = value(TrainingSettings()) else { return help }
        return (help.hasSuffix(".") ? String(help.dropLast()) : help) + " (default: \(standard))."
    }

    /// The value `settings` hold for this setting, as its flag would give it (`0.01`, `256,128`); nil when unset.
    public func value(in settings: TrainingSettings) -> String? { value(settings) }

    /// The setting whose flag (or study-file key) is `flag`.
    public static func named(_ flag: String) -> TrainingSetting? { all.first { $0.flag == flag } }

    /// A problem with this setting's value in a run.
    func problem(_ message: String) -> SettingProblem { SettingProblem(self, message) }
}

/// A setting's value as a user gave it: a study file's JSON value, or a flag's parsed value.
public enum SettingValue: Sendable, Equatable {
    case number(Double)
    /// A whole number given exactly (a flag's `--seed`, beyond the 2⁵³ a JSON number holds).
    case whole(UInt64)
    case bool(Bool)
    case text(String)
    case list([SettingValue])
    /// A model description (a study file's `model` object, or `--model NET.json` read).
    case description(ModelDescription)
    /// Any other value of a file (an object, null), as errors name it.
    case other(String)

    /// As an error shows the value found: `1`, `true`, `fast`, `a list`, `an object`.
    public var shown: String {
        switch self {
        case .number(let value): SettingValue.trimmed(value)
        case .whole(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .text(let value): value.isEmpty ? "an empty string" : value
        case .list: "a list"
        case .description: "a model description"
        case .other(let name): name
        }
    }

    /// `3` for a whole number, `%g` for the rest.
    public static func trimmed(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(format: "%g", value)
    }

    func number() throws(SettingValueMismatch) -> Double {
        switch self {
        case .number(let value): return value
        case .whole(let value): return Double(value)
        default: throw SettingValueMismatch(expected: "a number", found: self)
        }
    }

    /// A whole number (its bounds are the setting's).
    func integer() throws(SettingValueMismatch) -> Int {
        switch self {
        case .number(let value) where value == value.rounded() && abs(value) <= 1e18: return Int(value)
        case .whole(let value) where value <= UInt64(Int.max): return Int(value)
        default: throw SettingValueMismatch(expected: "an integer", found: self)
        }
    }

    func bool() throws(SettingValueMismatch) -> Bool {
        guard case .bool(let value) = self else { throw SettingValueMismatch(expected: "true or false", found: self) }
        return value
    }

    func text(_ expected: String) throws(SettingValueMismatch) -> String {
        guard case .text(let value) = self else { throw SettingValueMismatch(expected: expected, found: self) }
        return value
    }

    /// One of `T`'s names (`sgd`, `adam`, `adamw`).
    func choice<T: RawRepresentable & CaseIterable & Equatable>(of _: T.Type, except excluded: [T] = []) throws(SettingValueMismatch) -> T where T.RawValue == String {
        let names = T.allCases.filter { !excluded.contains($0) }.map(\.rawValue)
        let expected = names.dropLast().joined(separator: ", ") + " or " + names.last!
        guard let value = T(rawValue: try text(expected)), !excluded.contains(value) else {
            throw SettingValueMismatch(expected: expected, found: self)
        }
        return value
    }
}

/// A value that cannot be read as its setting's: of the wrong kind (`expected a number, found fast`), or text
/// that does not parse (`'rotate' is not flip, crop:PADDING or erase:PROBABILITY`).
public struct SettingValueMismatch: Error, Sendable {
    public let found: SettingValue
    /// What the setting takes: `a number`.
    public let expected: String?
    /// Why text does not parse, said whole: `'crop:20': crop padding must be a whole number from 1 to 8`.
    public let reason: String?

    init(expected: String, found: SettingValue) { (self.expected, self.found, reason) = (expected, found, nil) }
    init(reason: String, found: SettingValue) { (self.reason, self.found, expected) = (reason, found, nil) }

    /// As a file's error says it: `expected a number, found fast`.
    public var message: String { reason ?? "expected \(expected ?? "another value"), found \(found.shown)" }
    /// As a flag's error says it, after the flag: `'linear': expected constant, …`.
    public var forFlag: String { reason ?? "'\(found.shown)': expected \(expected ?? "another value")" }
}

/// A setting that cannot be used, as `TrainingConfig.validate()` or `TrainingSettings` find it: which setting (by its
/// `train` flag and by its key in `metrics.json`, checkpoints and the web API) and what is wrong with its value.
public struct SettingProblem: Error, Sendable, CustomStringConvertible {
    /// `train`'s flag for it, without the dashes: `lr`.
    public let flag: String
    /// Its key where settings are stored (`TrainingConfig`'s coding key): `learningRate`.
    public private(set) var key: String
    /// What is wrong, with the value: `must be a positive number, got -1`.
    public let message: String
    /// Where the value was given (`--lr`, `base.lr`, `grid.lr[2]`); nil when the settings were not given by a user.
    public var origin: String?
    /// The value of the wrong kind, for a value that could not be read at all.
    public var mismatch: SettingValueMismatch?

    public init(_ setting: TrainingSetting, _ message: String) {
        (flag, key, self.message) = (setting.flag, setting.key, message)
    }

    /// The same problem, for a value stored under `key` (a custom model's network is stored as `architecture`).
    func storedAs(_ key: String) -> SettingProblem {
        var copy = self
        copy.key = key
        return copy
    }

    /// As a flag's error: `--lr must be a positive number, got -1`; for a value of the wrong kind,
    /// `--schedule 'linear': expected constant, step:EVERY:GAMMA, cosine[:MIN] or onecycle[:WARMUP]`.
    public var asFlag: String {
        "--\(flag) \(mismatch?.forFlag ?? message)"
    }

    /// As a file's error after its name: `base.lr: must be a positive number, got -1` (`where` names the run when
    /// the value was not given in the file).
    public func inFile(where place: String) -> String { "\(origin ?? "\(place): \(flag)"): \(message)" }

    public var description: String { "\(key) \(message)" }
}
