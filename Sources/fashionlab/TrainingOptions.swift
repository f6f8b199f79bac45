import ArgumentParser
import FashionCore
import FashionEngine
import FashionTraining
import Foundation

extension OptimizerKind: ExpressibleByArgument {}
extension TrainingMetrics: ExpressibleByArgument {}
extension Monitor: ExpressibleByArgument {}

extension ValidationSplit: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// `--model`: a built-in model's name, or a model description file (a path ending in .json, or any existing
/// file), read and validated once, when the flag is parsed.
struct ModelOption: ExpressibleByArgument, Equatable, Sendable {
    /// What was given.
    let argument: String
    let kind: ModelKind
    /// The file's description (custom models).
    let description: ModelDescription?
    /// Why the file cannot be used (it names the file).
    let problem: String?

    /// Never nil: what cannot be used keeps its `problem`, which `TrainingOptions.validate` reports.
    init?(argument: String) {
        self.argument = argument
        if let kind = ModelKind(rawValue: argument), kind != .custom {
            (self.kind, description, problem) = (kind, nil, nil)
        } else if argument.hasSuffix(".json") || FileManager.default.fileExists(atPath: argument) {
            kind = .custom
            do {
                (description, problem) = (try ModelDescription.read(argument), nil)
            } catch {
                (description, problem) = (nil, "\(error)")
            }
        } else {
            (kind, description) = (.custom, nil)
            problem = "'\(argument)' is not a known model (known: \(TrainingConfig.models.joined(separator: ", ")), or a model description file NET.json)"
        }
    }

    static var allValueStrings: [String] { TrainingConfig.models }
    var defaultValueDescription: String { argument }
    static func == (a: ModelOption, b: ModelOption) -> Bool { a.argument == b.argument }

    /// A name for run directories: the built-in model's, or `custom-` and the file's base name (letters, digits,
    /// `-`, `_` and `.` kept, anything else `_`).
    var runName: String {
        guard kind == .custom else { return kind.rawValue }
        let base = URL(fileURLWithPath: argument).deletingPathExtension().lastPathComponent
        let safe = String(String.UnicodeScalarView(base.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar)) ? scalar : "_"
        }))
        return "custom-" + (safe.isEmpty || safe.allSatisfy({ $0 == "." }) ? "model" : safe)
    }
}

extension ArgumentHelp {
    /// A training setting's help, from the table (`TrainingSetting.all`).
    static func setting(_ setting: TrainingSetting) -> ArgumentHelp {
        ArgumentHelp(setting.helpText, valueName: setting.valueName)
    }
}

extension NameSpecification {
    /// A training setting's flag, from the table.
    static func setting(_ setting: TrainingSetting) -> NameSpecification { .customLong(setting.flag) }
}

/// The flags that define a training run, shared by `train` and `lr-find`: one option per training setting, named and
/// described by the table (`TrainingSetting.all`); each given value goes through `TrainingSettings.set`, as a study
/// file's do. An option is nil (or false) unless given, so a recipe can tell what the user set.
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A documented setup that sets the model and every training flag but --seed, --subset and the validation flags: \(Recipe.all.map(\.name).joined(separator: ", ")) (see docs/training.md); --lr and --epochs beside it replace its (peak) learning rate and its length.", valueName: "NAME"))
    var recipe: String?

    @Option(name: .setting(.model), help: .setting(.model))
    var modelOption: ModelOption?
    @Option(name: .setting(.hidden), help: .setting(.hidden))
    var hidden: String?
    @Option(name: .setting(.optimizer), help: .setting(.optimizer))
    var optimizer: OptimizerKind?
    @Option(name: .setting(.learningRate), parsing: .unconditional, help: .setting(.learningRate))
    var lr: Float?
    @Option(name: .setting(.momentum), parsing: .unconditional, help: .setting(.momentum))
    var momentum: Float?
    @Flag(name: .setting(.nesterov), help: .setting(.nesterov))
    var nesterov = false
    @Option(name: .setting(.weightDecay), parsing: .unconditional, help: .setting(.weightDecay))
    var weightDecay: Float?
    @Option(name: .setting(.schedule), help: .setting(.schedule))
    var schedule: String?
    @Option(name: .setting(.warmup), parsing: .unconditional, help: .setting(.warmup))
    var warmup: Int?
    @Option(name: .setting(.batchSize), parsing: .unconditional, help: .setting(.batchSize))
    var batchSize: Int?
    @Option(name: .setting(.evaluationBatchSize), parsing: .unconditional, help: .setting(.evaluationBatchSize))
    var evaluationBatchSize: Int?
    @Option(name: .setting(.epochs), parsing: .unconditional, help: .setting(.epochs))
    var epochs: Int?
    @Flag(name: .setting(.scale), help: .setting(.scale))
    var scale = false
    @Flag(name: .setting(.noScale), help: .setting(.noScale))
    var noScale = false
    @Option(name: .setting(.seed), help: .setting(.seed))
    var seed: UInt64?
    @Option(name: .setting(.subset), parsing: .unconditional, help: .setting(.subset))
    var subset: Int?
    @Flag(name: .setting(.normalize), help: .setting(.normalize))
    var normalize = false
    @Option(name: .setting(.augment), help: .setting(.augment))
    var augment: String?
    @Option(name: .setting(.labelSmoothing), parsing: .unconditional, help: .setting(.labelSmoothing))
    var labelSmoothing: Float?
    @Option(name: .setting(.trainMetrics), help: .setting(.trainMetrics))
    var trainMetrics: TrainingMetrics?
    @Option(name: .setting(.validationSplit), parsing: .unconditional, help: .setting(.validationSplit))
    var valSplit: ValidationSplit?
    @Option(name: .setting(.monitor), help: .setting(.monitor))
    var monitor: Monitor?
    @Option(name: .setting(.earlyStop), parsing: .unconditional, help: .setting(.earlyStop))
    var earlyStop: Int?
    @Option(name: .setting(.minDelta), parsing: .unconditional, help: .setting(.minDelta))
    var minDelta: Double?
    @Option(name: .setting(.logEvery), parsing: .unconditional, help: .setting(.logEvery))
    var logEvery: Int?

    @OptionGroup var threadOptions: ThreadOptions

    /// The value of every setting given, by the table's entry.
    private var given: [(TrainingSetting, SettingValue?)] {
        [(.model, modelOption.map { $0.description.map(SettingValue.description) ?? .text($0.argument) }),
         (.hidden, hidden.map(SettingValue.text)),
         (.optimizer, optimizer.map { .text($0.rawValue) }),
         (.learningRate, lr.map { .number(Double($0)) }),
         (.momentum, momentum.map { .number(Double($0)) }),
         (.nesterov, nesterov ? .bool(true) : nil),
         (.weightDecay, weightDecay.map { .number(Double($0)) }),
         (.schedule, schedule.map(SettingValue.text)),
         (.warmup, warmup.map { .number(Double($0)) }),
         (.batchSize, batchSize.map { .number(Double($0)) }),
         (.evaluationBatchSize, evaluationBatchSize.map { .number(Double($0)) }),
         (.epochs, epochs.map { .number(Double($0)) }),
         (.scale, scale ? .bool(true) : nil),
         (.noScale, noScale ? .bool(true) : nil),
         (.seed, seed.map(SettingValue.whole)),
         (.subset, subset.map { .number(Double($0)) }),
         (.normalize, normalize ? .bool(true) : nil),
         (.augment, augment.map(SettingValue.text)),
         (.labelSmoothing, labelSmoothing.map { .number(Double($0)) }),
         (.trainMetrics, trainMetrics.map { .text($0.rawValue) }),
         (.validationSplit, valSplit.map { .text("\($0)") }),
         (.monitor, monitor.map { .text($0.rawValue) }),
         (.earlyStop, earlyStop.map { .number(Double($0)) }),
         (.minDelta, minDelta.map(SettingValue.number)),
         (.logEvery, logEvery.map { .number(Double($0)) })]
    }

    /// `--model`, the MLP when not given.
    var model: ModelOption { modelOption ?? ModelOption(argument: TrainingSetting.model.value(in: TrainingSettings())!)! }

    /// The settings the flags give: the recipe's, or the defaults, with every flag given set on them.
    var settings: TrainingSettings {
        get throws {
            var settings = TrainingSettings()
            if let recipe {
                guard let named = Recipe.named(recipe) else {
                    throw ValidationError("--recipe '\(recipe)' is not a known recipe (known: \(Recipe.all.map(\.name).joined(separator: ", ")))")
                }
                settings = TrainingSettings(recipe: named)
            }
            if let problem = model.problem { throw ValidationError("--model \(problem)") }
            for case let (setting, value?) in given {
                do {
                    try settings.set(setting, to: value, from: "--" + setting.flag)
                } catch {
                    throw ValidationError(error.asFlag)
                }
            }
            return settings
        }
    }

    /// The run's configuration, checked as every run's is (the one validator that study files, checkpoints and
    /// metrics.json go through too).
    var config: TrainingConfig {
        get throws {
            let settings = try self.settings
            do {
                return try settings.validated()
            } catch {
                throw ValidationError(error.asFlag)
            }
        }
    }

    func validate() throws { _ = try config }

    func applyThreads() { threadOptions.apply() }
}
