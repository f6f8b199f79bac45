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
/// `base` and `grid` take every `train` setting by its flag's name (``fields``, from `TrainingSetting.all`). Numbers
/// are numbers (`"epochs": 1`), flags are `true`/`false`, the rest are the strings the flags take
/// (`"schedule": "cosine"`, `"augment": "flip,crop:2"`). The runs are every combination of the grid (at most
/// ``maximumRuns``), and each is checked as `train` checks its flags. `model` is mlp, cnn, cnn-large or a model
/// description object (`{"input_shape": [1, 28, 28], "layers": […]}`, see `ModelDescription`). `normalize` is
/// measured on the training set when the study runs (``StudyRun/normalize``).
public enum StudyFile {
    /// The settings `base` and `grid` take: `train`'s flags' names.
    public static let fields = TrainingSetting.all.map(\.flag)
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

        var base = TrainingSettings()
        if let value = fields["base"] {
            guard case .object(let settings) = value else { throw StudyFileError(file, "field 'base' must be an object, found \(value.shown)") }
            for key in settings.keys.sorted() {
                try base.set(key, settings[key]!, at: "base.\(key)", file: file)
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
            return Study(name: studyName, kind: .custom, runs: [try check(base, label: "base", file: file)], showsWeights: true)
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
                try settings.set(axis.key, value, at: "grid.\(axis.key)[\(index)]", file: file)
                // Runs that differ only in their seed share a label: the report shows their mean and spread.
                if axis.key != "seed" { label.append("\(axis.key) \(value.label)") }
            }
            let text = label.isEmpty ? "base" : label.joined(separator: ", ")
            runs.append(try check(settings, label: text, file: file))
            for position in indices.indices.reversed() {
                indices[position] += 1
                if indices[position] < axes[position].values.count { break }
                indices[position] = 0
            }
        }
        return Study(name: studyName, kind: .custom, runs: runs, showsWeights: true)
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
    static func check(_ settings: TrainingSettings, label: String, file: String) throws -> StudyRun {
        do {
            let config = try settings.validated()
            return StudyRun(label: label, config: config, normalize: settings.normalize, split: settings.split)
        } catch {
            throw StudyFileError(file, error.inFile(where: "run '\(label)'"))
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

extension TrainingSettings {
    /// Sets the setting a study file names `key` to a JSON value, given at `path` (`base.lr`, `grid.lr[2]`).
    mutating func set(_ key: String, _ value: JSONValue, at path: String, file: String) throws {
        guard let setting = TrainingSetting.named(key) else {
            throw StudyFileError(file, "\(path): unknown setting '\(key)' (known: \(StudyFile.fields.joined(separator: ", ")))")
        }
        var given = value.setting
        if case .object = value, setting.flag == TrainingSetting.model.flag {
            do {
                given = .description(try ModelDescription.parse(try JSONEncoder().encode(value), name: path))
            } catch let error as ModelDescriptionError {
                throw StudyFileError(file, error.message)
            }
        }
        do {
            try set(setting, to: given, from: path)
        } catch {
            throw StudyFileError(file, error.inFile(where: path))
        }
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
        case .number(let value): SettingValue.trimmed(value)
        case .bool(let value): value ? "true" : "false"
        case .string(let value): value.isEmpty ? "an empty string" : value
        case .array: "a list"
        case .object: "an object"
        case .null: "null"
        }
    }

    /// As a setting's value (an object, which only a model description is, is read by `TrainingSettings.set`).
    var setting: SettingValue {
        switch self {
        case .number(let value): .number(value)
        case .bool(let value): .bool(value)
        case .string(let value): .text(value)
        case .array(let list): .list(list.map(\.setting))
        case .object, .null: .other(shown)
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
