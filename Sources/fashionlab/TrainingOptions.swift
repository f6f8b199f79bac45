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

/// The flags that define a training run, shared by `train` and `bench`.
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A documented setup that sets the model and every training flag but --seed and --subset: \(Recipe.all.map(\.name).joined(separator: ", ")) (see the README); --lr and --epochs beside it replace its (peak) learning rate and its length.", valueName: "NAME"))
    var recipe: String?

    @Option(name: .customLong("model"), help: ArgumentHelp("Model: mlp (the notebook's, sized by --hidden; the default), cnn (4 convolutions with batch normalisation), cnn-large (6 wider convolutions, global average pooling), or a model description file NET.json (your own network; see the README).", valueName: "MODEL"))
    var modelOption: ModelOption?
    /// `--model`, the MLP when not given.
    var model: ModelOption { modelOption ?? ModelOption(argument: "mlp")! }

    @Option(help: ArgumentHelp("Hidden layer sizes of the MLP, comma-separated (e.g. 256,128,64; default 1000); --model mlp only.", valueName: "SIZES"))
    var hidden: String?

    @Option(help: "Optimiser: sgd (the default), adam or adamw.")
    var optimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: ArgumentHelp("Learning rate (the peak of a schedule; default 0.01, or the recipe's).", valueName: "LR"))
    var lr: Float?
    static let defaultRate: Float = 0.01

    @Option(parsing: .unconditional, help: "SGD momentum (default 0).")
    var momentum: Float?

    @Flag(help: "Nesterov momentum (SGD, needs --momentum).")
    var nesterov = false

    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Weight decay (L2 for sgd/adam, decoupled for adamw; default 0).")
    var weightDecay: Float?

    @Option(help: ArgumentHelp("Learning-rate schedule: constant (the default), step:EVERY:GAMMA, cosine[:MIN] or onecycle[:WARMUP].", valueName: "SCHEDULE"))
    var schedule: String?

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Training batch size (default 32).")
    var batchSize: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Number of epochs (default 5, or the recipe's).", valueName: "N"))
    var epochs: Int?
    static let defaultEpochs = 5

    @Flag(name: .customLong("no-scale"), help: "Feed raw 0…255 pixels instead of pixels/255.")
    var noScale = false

    @Option(help: "Seed for initialisation and shuffling.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Train on the first N training images only (quick experiments).", valueName: "N"))
    var subset: Int?

    @Flag(help: "Normalise inputs by the training pixels' mean and standard deviation.")
    var normalize = false

    @Option(help: ArgumentHelp("Training augmentation, comma-separated: flip, crop:PADDING, erase:PROBABILITY (e.g. flip,crop:2,erase:0.5); none (the default) for none.", valueName: "LIST"))
    var augment: String?

    @Option(name: .customLong("label-smoothing"), parsing: .unconditional, help: "Label smoothing of the training loss, in [0, 1) (default 0).")
    var labelSmoothing: Float?

    @Option(name: .customLong("train-metrics"), help: ArgumentHelp("Training accuracy after each epoch: whole-set (a pass over the training set, the notebook's; the default) or batches (running mean over the epoch's batches, free).", valueName: "HOW"))
    var trainMetrics: TrainingMetrics?

    @Option(name: .customLong("val-split"), parsing: .unconditional, help: ArgumentHelp("Hold out N training images (or a fraction, e.g. 0.1), stratified by class and chosen from the seed, as the validation set; the test set is then measured once, at the end. Without it the test set is the validation set (the notebook's way).", valueName: "N|FRACTION"))
    var valSplit: ValidationSplit?

    @Option(help: ArgumentHelp("What picks the best epoch (best.safetensors) and what --early-stop watches: val-loss or val-accuracy.", valueName: "METRIC"))
    var monitor = Monitor.validationLoss

    @Option(name: .customLong("early-stop"), parsing: .unconditional, help: ArgumentHelp("Stop after PATIENCE epochs without improvement of --monitor, and restore the best epoch's weights (Keras' EarlyStopping with restore_best_weights).", valueName: "PATIENCE"))
    var earlyStop: Int?

    @Option(name: .customLong("min-delta"), parsing: .unconditional, help: ArgumentHelp("The least change of --monitor that counts as an improvement (with --early-stop).", valueName: "D"))
    var minDelta: Double = 0

    @Option(name: .customLong("log-every"), parsing: .unconditional, help: ArgumentHelp("Record the mean training loss of every N steps in metrics.json; the loss chart draws it under the epochs' points.", valueName: "N"))
    var logEvery: Int?

    @OptionGroup var threadOptions: ThreadOptions

    var hiddenSizes: [Int]? {
        let sizes = (hidden ?? "1000").split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return sizes.map { $0! }
    }

    func validate() throws {
        if let recipe {
            guard Recipe.named(recipe) != nil else {
                throw ValidationError("--recipe '\(recipe)' is not a known recipe (known: \(Recipe.all.map(\.name).joined(separator: ", ")))")
            }
            if let flag = flagsSetBesideRecipe.first {
                throw ValidationError("--recipe \(recipe) sets \(flag) itself; leave \(flag) out, or give every flag without --recipe")
            }
        }
        if let problem = model.problem { throw ValidationError("--model \(problem)") }
        guard hidden == nil || model.kind == .mlp else {
            throw ValidationError("--hidden sizes the MLP only; --model \(model.argument) does not take it")
        }
        guard hiddenSizes != nil else { throw ValidationError("--hidden '\(hidden ?? "")' must be positive integers separated by commas") }
        if let schedule, LearningRateSchedule(parsing: schedule) == nil {
            throw ValidationError("--schedule '\(schedule)' is not constant, step:EVERY:GAMMA, cosine[:MIN] or onecycle[:WARMUP]")
        }
        _ = try augmentation  // its text parses
        if minDelta != 0, earlyStop == nil { throw ValidationError("--min-delta applies to --early-stop; give --early-stop PATIENCE too") }
        // Every value's bounds: the one validator that study files, checkpoints and metrics.json go through too.
        do {
            try config.validate()
        } catch let problem as SettingProblem {
            throw ValidationError(problem.asFlag)
        }
    }

    /// `--augment` parsed; nil for none.
    var augmentation: Augmentation? {
        get throws {
            do {
                let parsed = try Augmentation(parsing: augment ?? "none")
                return parsed.isIdentity ? nil : parsed
            } catch {
                throw ValidationError("--augment \(error)")
            }
        }
    }

    /// The training flags given beside `--recipe` that the recipe sets itself (`--lr` and `--epochs` replace the
    /// recipe's instead). Options are nil unless given, so a flag given with its default value counts too.
    private var flagsSetBesideRecipe: [String] {
        let given: [(String, Bool)] = [
            ("--model", modelOption != nil), ("--hidden", hidden != nil), ("--optimizer", optimizer != nil),
            ("--momentum", momentum != nil), ("--nesterov", nesterov), ("--weight-decay", weightDecay != nil),
            ("--schedule", schedule != nil), ("--batch-size", batchSize != nil), ("--no-scale", noScale),
            ("--normalize", normalize), ("--augment", augment != nil), ("--label-smoothing", labelSmoothing != nil),
            ("--train-metrics", trainMetrics != nil),
        ]
        return given.filter(\.1).map(\.0)
    }

    /// Whether inputs are to be normalised by the training set's statistics (`--normalize` or the recipe).
    var normalizesInputs: Bool { normalize || (recipe.flatMap(Recipe.named)?.normalize ?? false) }

    var config: TrainingConfig {
        if let recipe = recipe.flatMap(Recipe.named) {
            var config = recipe.config
            config.seed = seed
            if let lr { config.learningRate = lr }
            if let epochs { config.epochs = epochs }
            config.trainingSubset = subset
            return withValidation(config)
        }
        var config = TrainingConfig()
        config.model = model.kind
        config.architecture = model.description
        config.hidden = hiddenSizes ?? [1000]
        config.optimizer = optimizer ?? .sgd
        config.learningRate = lr ?? Self.defaultRate
        config.momentum = momentum ?? 0
        config.nesterov = nesterov
        config.weightDecay = weightDecay ?? 0
        config.schedule = schedule.flatMap(LearningRateSchedule.init(parsing:)) ?? .constant
        config.batchSize = batchSize ?? 32
        config.epochs = epochs ?? Self.defaultEpochs
        config.scale = !noScale
        config.seed = seed
        config.trainingSubset = subset
        config.augmentation = try? augmentation
        config.labelSmoothing = (labelSmoothing ?? 0) != 0 ? labelSmoothing : nil
        config.trainingMetrics = trainMetrics == .wholeSet ? nil : trainMetrics
        return withValidation(config)
    }

    /// `config` with the best epoch's monitor and early stopping (the validation split is resolved against the
    /// training set by `prepared(for:normalize:split:)`).
    private func withValidation(_ config: TrainingConfig) -> TrainingConfig {
        var config = config
        config.monitor = monitor == .validationLoss ? nil : monitor
        config.earlyStopping = earlyStop.map { EarlyStopping(patience: $0, minDelta: minDelta) }
        config.logEvery = logEvery
        return config
    }

    func applyThreads() { threadOptions.apply() }
}
