import Foundation
import FashionEngine
import FashionTraining

/// A user's own study, read from JSON:
///
/// ```json
/// { "name": "hidden-size",
///   "base": { "optimizer": "adam", "lr": 0.001, "epochs": 3 },
///   "grid": { "hidden": [[64], [256], [1000]], "batch-size": [32, 128] } }
/// ```
/// `base` and `grid` take the `train` flags' names: model, hidden, optimizer, lr, momentum, nesterov,
/// weight-decay, schedule, batch-size, epochs, scale, seed. The runs are every combination of the grid.
/// `model` is mlp, cnn, cnn-large or a model description object (`{"input_shape": [1, 28, 28], "layers": […]}`,
/// see `ModelDescription`).
public enum StudyFile {
    public static let fields = ["model", "hidden", "optimizer", "lr", "momentum", "nesterov", "weight-decay",
                                "schedule", "batch-size", "epochs", "scale", "seed"]

    /// Reads and validates a study file.
    public static func read(_ path: String) throws -> Study {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StudyFileError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        return try parse(data, name: path)
    }

    public static func parse(_ data: Data, name: String) throws -> Study {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw StudyFileError(name, "not valid JSON at \(syntaxLocation(data, error))")
        }
        guard let root = object as? [String: Any] else { throw StudyFileError(name, "the top level must be an object") }
        for key in root.keys where !["name", "base", "grid"].contains(key) {
            throw StudyFileError(name, "unknown field '\(key)' (expected name, base, grid)")
        }
        let studyName = try (root["name"]).map { value -> String in
            guard let text = value as? String, !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw StudyFileError(name, "field 'name' must be a non-empty string of letters, digits, - _ .")
            }
            return text
        } ?? URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent

        var base = TrainingConfig()
        if let value = root["base"] {
            guard let fields = value as? [String: Any] else { throw StudyFileError(name, "field 'base' must be an object") }
            for key in fields.keys.sorted() { try apply(key, fields[key]!, to: &base, at: "base.\(key)", file: name) }
        }
        var runs = [StudyRun(label: "base", config: base)]
        if let value = root["grid"] {
            guard let grid = value as? [String: Any] else { throw StudyFileError(name, "field 'grid' must be an object") }
            runs = []
            var combinations: [(label: [String], config: TrainingConfig)] = [([], base)]
            for key in grid.keys.sorted() {
                guard let values = grid[key] as? [Any], !values.isEmpty else {
                    throw StudyFileError(name, "grid.\(key) must be a non-empty list of values")
                }
                var next: [(label: [String], config: TrainingConfig)] = []
                for combination in combinations {
                    for (index, value) in values.enumerated() {
                        var config = combination.config
                        try apply(key, value, to: &config, at: "grid.\(key)[\(index)]", file: name)
                        next.append((combination.label + ["\(key) \(describe(value))"], config))
                    }
                }
                combinations = next
            }
            guard combinations.count <= 100 else { throw StudyFileError(name, "the grid makes \(combinations.count) runs; at most 100 are allowed") }
            runs = combinations.map { StudyRun(label: $0.label.joined(separator: ", "), config: $0.config) }
        }
        return Study(name: studyName, kind: "custom", runs: runs, showsWeights: true)
    }

    private static func describe(_ value: Any) -> String {
        if let list = value as? [Any] { return list.map(describe).joined(separator: "-") }
        if let object = value as? [String: Any] { return "custom (\((object["layers"] as? [Any])?.count ?? 0) layers)" }
        if let number = value as? NSNumber { return Axis.trimmed(number.doubleValue) }
        return "\(value)"
    }

    /// Sets one field, checking its type and range.
    static func apply(_ key: String, _ value: Any, to config: inout TrainingConfig, at path: String, file: String) throws {
        func fail(_ message: String) -> StudyFileError { StudyFileError(file, "\(path): \(message)") }
        func number() throws -> Double {
            guard let number = value as? NSNumber, !(value is Bool) else { throw fail("expected a number, found \(value)") }
            return number.doubleValue
        }
        func integer(minimum: Int) throws -> Int {
            let n = try number()
            guard n == n.rounded(), n >= Double(minimum), n <= 1e9 else { throw fail("expected an integer ≥ \(minimum), found \(value)") }
            return Int(n)
        }
        switch key {
        case "model":
            if value is [String: Any] {
                let data = try JSONSerialization.data(withJSONObject: value)
                do {
                    config.architecture = try ModelDescription.parse(data, name: path)
                } catch let error as ModelDescriptionError {
                    throw StudyFileError(file, error.message)
                }
                config.model = .custom
                return
            }
            guard let name = value as? String, let kind = ModelKind(rawValue: name), kind != .custom else {
                throw fail("unknown model \(value) (known: \(TrainingConfig.models.joined(separator: ", ")), or a model description object)")
            }
            config.model = kind
            config.architecture = nil
        case "hidden":
            if let list = value as? [Any] {
                config.hidden = try list.map { item in
                    guard let n = item as? NSNumber, n.doubleValue >= 1, n.doubleValue == n.doubleValue.rounded() else { throw fail("hidden sizes must be positive integers") }
                    return n.intValue
                }
                guard !config.hidden.isEmpty else { throw fail("hidden needs at least one size") }
            } else {
                config.hidden = [try integer(minimum: 1)]
            }
        case "optimizer":
            guard let text = value as? String, let kind = OptimizerKind(rawValue: text) else { throw fail("expected sgd, adam or adamw, found \(value)") }
            config.optimizer = kind
        case "lr":
            let lr = try number()
            guard lr > 0, lr.isFinite else { throw fail("must be a positive number") }
            config.learningRate = Float(lr)
        case "momentum":
            let momentum = try number()
            guard momentum >= 0, momentum < 1 else { throw fail("must be in [0, 1)") }
            config.momentum = Float(momentum)
        case "nesterov":
            guard let flag = value as? Bool else { throw fail("expected true or false") }
            config.nesterov = flag
        case "weight-decay":
            let decay = try number()
            guard decay >= 0 else { throw fail("must be 0 or more") }
            config.weightDecay = Float(decay)
        case "schedule":
            guard let text = value as? String, let schedule = LearningRateSchedule(parsing: text) else {
                throw fail("expected constant, step:EVERY:GAMMA, cosine[:MIN] or onecycle[:WARMUP], found \(value)")
            }
            config.schedule = schedule
        case "batch-size": config.batchSize = try integer(minimum: 1)
        case "epochs": config.epochs = try integer(minimum: 1)
        case "seed": config.seed = UInt64(try integer(minimum: 0))
        case "scale":
            guard let flag = value as? Bool else { throw fail("expected true or false") }
            config.scale = flag
        default:
            throw StudyFileError(file, "\(path): unknown setting '\(key)' (known: \(fields.joined(separator: ", ")))")
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
