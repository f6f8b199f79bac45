import FashionCore
import FashionEngine
import FashionTraining
import Foundation

/// A user's own study, read from JSON:
///
/// ```json
/// { "name": "hidden-size",
///   "base": { "optimizer": "adam", "lr": 0.001, "epochs": 3 },
///   "grid": { "hidden": [[64], [256], [1000]], "batch-size": [32, 128] } }
/// ```
/// `base` and `grid` take every `train` setting by its flag's name (``fields``): model, hidden, optimizer, lr,
/// momentum, nesterov, weight-decay, schedule, batch-size, epochs, scale, no-scale, seed, subset, normalize,
/// augment, label-smoothing, train-metrics, val-split, monitor, early-stop, min-delta, log-every. Numbers are numbers (`"epochs": 1`), flags are `true`/`false`,
/// the rest are the strings the flags take (`"schedule": "cosine"`, `"augment": "flip,crop:2"`). The runs are
/// every combination of the grid (at most ``maximumRuns``), and each is checked as `train` checks its flags.
/// `model` is mlp, cnn, cnn-large or a model description object (`{"input_shape": [1, 28, 28], "layers": […]}`,
/// see `ModelDescription`). `normalize` is measured on the training set when the study runs (``StudyRun/normalize``).
public enum StudyFile {
    /// The settings `base` and `grid` take: `train`'s flags' names.
    public static let fields = ["model", "hidden", "optimizer", "lr", "momentum", "nesterov", "weight-decay",
                                "schedule", "batch-size", "epochs", "scale", "no-scale", "seed", "subset",
                                "normalize", "augment", "label-smoothing", "train-metrics", "val-split", "monitor", "early-stop",
                                "min-delta", "log-every"]
    /// The most runs a grid may make.
    public static let maximumRuns = 100

    /// Reads and validates a study file.
    public static func read(_ path: String) throws -> Study {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StudyFileError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        return try parse(data, name: path)
    }

    public static func parse(_ data: Data, name file: String) throws -> Study {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            // JSONSerialization says where the syntax breaks.
            do {
                _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
                throw StudyFileError(file, "not valid JSON: \(error)")
            } catch let syntax where !(syntax is StudyFileError) {
                throw StudyFileError(file, "not valid JSON at \(syntaxLocation(data, syntax))")
            }
        }
        if let key = JSONKeys.firstRepeated(in: data) { throw StudyFileError(file, "\(RepeatedJSONKey(key: key))") }
        guard case .object(let fields) = root else { throw StudyFileError(file, "the top level must be an object") }
        for key in fields.keys.sorted() where !["name", "base", "grid"].contains(key) {
            throw StudyFileError(file, "unknown field '\(key)' (expected name, base, grid)")
        }
        let studyName = try self.studyName(fields["name"], file: file)

        var base = RunSettings()
        if let value = fields["base"] {
            guard case .object(let settings) = value else { throw StudyFileError(file, "field 'base' must be an object, found \(value.shown)") }
            for key in settings.keys.sorted() {
                try base.apply(key, settings[key]!, at: "base.\(key)", file: file)
            }
        }
        var axes: [(key: String, values: [JSONValue])] = []
        if let value = fields["grid"] {
            guard case .object(let grid) = value else { throw StudyFileError(file, "field 'grid' must be an object, found \(value.shown)") }
            for key in grid.keys.sorted() {
                guard Self.fields.contains(key) else {
                    throw StudyFileError(file, "grid.\(key): unknown setting '\(key)' (known: \(Self.fields.joined(separator: ", ")))")
                }
                guard case .array(let values) = grid[key]!, !values.isEmpty else {
                    throw StudyFileError(file, "grid.\(key) must be a non-empty list of values, found \(grid[key]!.shown)")
                }
                if let origin = base.origins[key] {
                    throw StudyFileError(file, "grid.\(key): \(key) is also set in \(origin); give it in one place")
                }
                axes.append((key, values))
            }
        }
        // The grid's size, before any of it is built.
        var count = 1, overflow = false
        for axis in axes where !overflow {
            (count, overflow) = count.multipliedReportingOverflow(by: axis.values.count)
        }
        guard !overflow, count <= maximumRuns else {
            throw StudyFileError(file, "the grid makes \(overflow ? "more than \(Int.max)" : String(count)) runs (\(axes.map { "\($0.values.count) \($0.key)" }.joined(separator: " × "))); at most \(maximumRuns) are allowed")
        }
        if axes.isEmpty {
            try check(base, label: "base", file: file)
            return Study(name: studyName, kind: "custom", runs: [base.run(label: "base")], showsWeights: true)
        }
        var runs: [StudyRun] = []
        runs.reserveCapacity(count)
        // The first key (sorted) varies slowest, as the labels read.
        var indices = [Int](repeating: 0, count: axes.count)
        for _ in 0..<count {
            var settings = base
            var label: [String] = []
            for (axis, index) in zip(axes, indices) {
                let value = axis.values[index]
                try settings.apply(axis.key, value, at: "grid.\(axis.key)[\(index)]", file: file)
                // Runs that differ only in their seed share a label: the report shows their mean and spread.
                if axis.key != "seed" { label.append("\(axis.key) \(value.label)") }
            }
            let text = label.isEmpty ? "base" : label.joined(separator: ", ")
            try check(settings, label: text, file: file)
            runs.append(settings.run(label: text))
            for position in indices.indices.reversed() {
                indices[position] += 1
                if indices[position] < axes[position].values.count { break }
                indices[position] = 0
            }
        }
        return Study(name: studyName, kind: "custom", runs: runs, showsWeights: true)
    }

    /// The `name` field, or the file's base name; either must be able to name the study's directory.
    static func studyName(_ value: JSONValue?, file: String) throws -> String {
        guard let value else {
            let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            do {
                try PathName.validate(name, what: "study name")
            } catch {
                throw StudyFileError(file, "\(error) (the study is named after its file; give it a \"name\" field)")
            }
            return name
        }
        guard case .string(let name) = value else { throw StudyFileError(file, "name: expected a string, found \(value.shown)") }
        do {
            try PathName.validate(name, what: "study name")
        } catch {
            throw StudyFileError(file, "name: \(error)")
        }
        return name
    }

    /// A run's settings checked as `train` checks its flags; a problem names the field that set the value.
    static func check(_ settings: RunSettings, label: String, file: String) throws {
        func location(_ flag: String) -> String { settings.origins[flag] ?? "run '\(label)': \(flag)" }
        let config = settings.run(label: label).config
        if let origin = settings.origins["min-delta"], settings.patience == nil {
            throw StudyFileError(file, "\(origin): min-delta applies to early-stop; give early-stop too")
        }
        if let origin = settings.origins["hidden"], config.model != .mlp {
            throw StudyFileError(file, "\(origin): hidden sizes the MLP only; model \(config.model.rawValue) does not take it")
        }
        do {
            try config.validate()
        } catch let problem as SettingProblem {
            throw StudyFileError(file, "\(location(problem.flag)): \(problem.message)")
        }
    }

    /// "line L, column C: …" from Foundation's "… around character N." message.
    static func syntaxLocation(_ data: Data, _ error: Error) -> String {
        let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
        guard let range = detail.range(of: "character "),
              let offset = Int(detail[range.upperBound...].prefix { $0.isNumber }) else { return detail }
        let before = data.prefix(offset)
        let line = before.filter { $0 == 10 }.count + 1
        let column = offset - (before.lastIndex(of: 10).map { $0 + 1 } ?? 0) + 1
        return "line \(line), column \(column): \(detail)"
    }
}

/// One run's settings as a study file builds them, with where each came from (`base.lr`, `grid.lr[2]`).
struct RunSettings {
    var config = TrainingConfig()
    var normalize = false
    var split: ValidationSplit?
    var patience: Int?
    var minDelta = 0.0
    /// The field that set each setting, by flag name.
    var origins: [String: String] = [:]

    func run(label: String) -> StudyRun {
        var config = config
        config.earlyStopping = patience.map { EarlyStopping(patience: $0, minDelta: minDelta) }
        return StudyRun(label: label, config: config, normalize: normalize, split: split)
    }

    /// Sets one field, checking its type (ranges are checked on the whole run, `StudyFile.check`).
    mutating func apply(_ key: String, _ value: JSONValue, at path: String, file: String) throws {
        func fail(_ message: String) -> StudyFileError { StudyFileError(file, "\(path): \(message)") }
        func number() throws -> Double {
            guard case .number(let number) = value else { throw fail("expected a number, found \(value.shown)") }
            return number
        }
        func integer(_ item: JSONValue, minimum: Int, maximum: Int? = nil) throws -> Int {
            guard case .number(let n) = item, n == n.rounded(), n >= Double(minimum), n <= Double(maximum ?? 1_000_000_000) else {
                throw fail("expected an integer ≥ \(minimum)\(maximum.map { " and ≤ \($0)" } ?? ""), found \(item.shown)")
            }
            return Int(n)
        }
        func flag() throws -> Bool {
            guard case .bool(let flag) = value else { throw fail("expected true or false, found \(value.shown)") }
            return flag
        }
        func text(_ expected: String) throws -> String {
            guard case .string(let text) = value else { throw fail("expected \(expected), found \(value.shown)") }
            return text
        }
        let scaleKeys = ["scale", "no-scale"]
        if scaleKeys.contains(key), let other = scaleKeys.first(where: { $0 != key }), let origin = origins[other] {
            throw fail("\(other) is already set in \(origin); give scale or no-scale, not both")
        }
        switch key {
        case "model":
            if case .object = value {
                let data = try JSONEncoder().encode(value)
                do {
                    config.architecture = try ModelDescription.parse(data, name: path)
                } catch let error as ModelDescriptionError {
                    throw StudyFileError(file, error.message)
                }
                config.model = .custom
            } else {
                let known = "known: \(TrainingConfig.models.joined(separator: ", ")), or a model description object"
                let name = try text("a model name (\(known))")
                guard let kind = ModelKind(rawValue: name), kind != .custom else { throw fail("unknown model '\(name)' (\(known))") }
                config.model = kind
                config.architecture = nil
            }
        case "hidden":
            if case .array(let list) = value {
                guard !list.isEmpty else { throw fail("hidden needs at least one size") }
                config.hidden = try list.map { try integer($0, minimum: 1) }
            } else {
                config.hidden = [try integer(value, minimum: 1)]
            }
        case "optimizer":
            let name = try text("sgd, adam or adamw")
            guard let kind = OptimizerKind(rawValue: name) else { throw fail("expected sgd, adam or adamw, found \(name)") }
            config.optimizer = kind
        case "lr": config.learningRate = Float(try number())
        case "momentum": config.momentum = Float(try number())
        case "nesterov": config.nesterov = try flag()
        case "weight-decay": config.weightDecay = Float(try number())
        case "schedule":
            let syntax = "constant, step:EVERY:GAMMA, cosine[:MIN] or onecycle[:WARMUP]"
            let name = try text(syntax)
            guard let schedule = LearningRateSchedule(parsing: name) else { throw fail("expected \(syntax), found \(name)") }
            config.schedule = schedule
        case "batch-size": config.batchSize = try integer(value, minimum: 1)
        case "epochs": config.epochs = try integer(value, minimum: 1)
        // Seeds are exact up to 2^53, what a JSON number holds without rounding.
        case "seed": config.seed = UInt64(try integer(value, minimum: 0, maximum: 1 << 53))
        case "subset": config.trainingSubset = try integer(value, minimum: 1)
        case "scale": config.scale = try flag()
        case "no-scale": config.scale = !(try flag())
        case "normalize": normalize = try flag()
        case "augment":
            let list = try text("none or a list of flip, crop:PADDING, erase:PROBABILITY (e.g. \"flip,crop:2\")")
            do {
                let augmentation = try Augmentation(parsing: list)
                config.augmentation = augmentation.isIdentity ? nil : augmentation
            } catch {
                throw fail("\(error)")
            }
        case "label-smoothing":
            let smoothing = Float(try number())
            config.labelSmoothing = smoothing == 0 ? nil : smoothing
        case "train-metrics":
            let name = try text("whole-set or batches")
            guard let metrics = TrainingMetrics(rawValue: name) else { throw fail("expected whole-set or batches, found \(name)") }
            config.trainingMetrics = metrics == .wholeSet ? nil : metrics
        case "val-split":
            guard let parsed = ValidationSplit(number: try number()) else {
                throw fail("expected a number of images ≥ 1 or a fraction in (0, 1), found \(value.shown)")
            }
            split = parsed
        case "monitor":
            let name = try text("val-loss or val-accuracy")
            guard let monitor = Monitor(rawValue: name) else { throw fail("expected val-loss or val-accuracy, found \(name)") }
            config.monitor = monitor == .validationLoss ? nil : monitor
        case "early-stop": patience = try integer(value, minimum: 1)
        case "log-every": config.logEvery = try integer(value, minimum: 1)
        case "min-delta": minDelta = try number()
        default:
            throw fail("unknown setting '\(key)' (known: \(StudyFile.fields.joined(separator: ", ")))")
        }
        origins[key] = path
    }
}

/// Any JSON value, numbers and booleans told apart (`JSONSerialization` on Linux gives 0 and 1 as booleans).
public enum JSONValue: Sendable, Equatable, Codable {
    case number(Double)
    case bool(Bool)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let list = try? container.decode([JSONValue].self) {
            self = .array(list)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value):
            // Whole numbers as integers, so what reads an Int (a layer's `in_features`) reads them.
            if value == value.rounded(), abs(value) < 9.0e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .bool(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// As an error message shows a value found: `1`, `true`, `fast`, `a list`, `an object`, `null`.
    var shown: String {
        switch self {
        case .number(let value): Axis.trimmed(value)
        case .bool(let value): value ? "true" : "false"
        case .string(let value): value.isEmpty ? "an empty string" : value
        case .array: "a list"
        case .object: "an object"
        case .null: "null"
        }
    }

    /// As a run's label shows a value: `0.001`, `64-32` for a list, `custom (3 layers)` for a model description.
    var label: String {
        switch self {
        case .array(let list): list.map(\.label).joined(separator: "-")
        case .object(let object):
            if case .array(let layers) = object["layers"] { "custom (\(layers.count) layers)" } else { "custom (0 layers)" }
        default: shown
        }
    }
}

/// A study file that cannot be used: the file, the field and what was wrong.
public struct StudyFileError: Error, CustomStringConvertible {
    public let file: String
    public let message: String
    public init(_ file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

enum Axis {
    static func trimmed(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(format: "%g", value)
    }
}
