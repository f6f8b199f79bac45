import FashionEngine

/// The table of training settings: one entry each, in the order `--help` lists them. Adding a setting means a
/// field of `TrainingConfig`, an entry here (and in `all`), and the `@Option` of `fashionlab`'s `TrainingOptions`.
extension TrainingSetting {
    /// Every setting, in the order `--help` and the documentation list them.
    public static let all: [TrainingSetting] = [
        model, hidden, optimizer, learningRate, momentum, nesterov, weightDecay, schedule, warmup, batchSize,
        evaluationBatchSize, epochs, scale, noScale, seed, subset, normalize, augment, labelSmoothing, trainMetrics,
        validationSplit, monitor, earlyStop, minDelta, logEvery,
    ]

    /// The bounds the settings' values are held to: what the engines are written and tested for, and what this kind
    /// of machine can hold (a hostile file must not make FashionLab allocate terabytes or loop for years).
    public enum Limits {
        public static let batchSize = 1...100_000
        public static let epochs = 1...100_000
        public static let hiddenLayers = 1...100
        public static let hiddenWidth = 1...1_000_000
        /// The learning rate's upper bound: far above any rate that trains (the lab's largest is 0.1).
        public static let learningRate: Float = 1000
        public static let weightDecay: Float = 10
        /// Crop padding, in pixels: at most half an image side.
        public static let cropPadding = 0...14
        /// Training images a validation split may hold out (it must also leave a batch to train on).
        public static let validationSplit = 1...1_000_000
        /// Early stopping's patience, in epochs.
        public static let patience = 1...100_000
        /// Steps: of warmup, between recorded losses.
        public static let steps = 1...1_000_000
        /// Seeds a study file can give exactly (a JSON number is exact up to 2⁵³).
        public static let fileSeed: UInt64 = 1 << 53
    }

    public static let model = TrainingSetting(
        flag: "model", key: "model", valueName: "MODEL",
        help: "The network: mlp (the notebook's, sized by --hidden), cnn (4 convolutions with batch normalisation), cnn-large (6 wider convolutions, global average pooling), or a model description of one's own (a file NET.json; in a study file, the description itself; see docs/model-descriptions.md).",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in
            if case .description(let description) = value {
                (settings.config.model, settings.config.architecture) = (.custom, description)
            } else {
                settings.config.model = try value.choice(of: ModelKind.self, except: [.custom])
                settings.config.architecture = nil
            }
        },
        value: { $0.config.model == .custom ? nil : $0.config.model.rawValue },
        problem: { _ in nil })  // `validate()` checks the network as a whole

    public static let hidden = TrainingSetting(
        flag: "hidden", key: "hidden", valueName: "SIZES",
        help: "Hidden layer sizes of the MLP, comma-separated (e.g. 256,128,64); --model mlp only.",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in
            let expected = "positive integers separated by commas"
            switch value {
            case .text(let text):
                let sizes = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard sizes.allSatisfy({ $0 != nil }) else { throw SettingValueMismatch(expected: expected, found: value) }
                settings.config.hidden = sizes.map { $0! }
            case .list(let items):
                guard !items.isEmpty else { throw SettingValueMismatch(expected: "a list of at least one size", found: value) }
                settings.config.hidden = try items.map { item throws(SettingValueMismatch) in try item.integer() }
            default:
                settings.config.hidden = [try value.integer()]
            }
        },
        value: { $0.config.hidden.map(String.init).joined(separator: ",") },
        problem: { config in
            guard config.model == .mlp else { return nil }
            if !Limits.hiddenLayers.contains(config.hidden.count) {
                return "must list 1 to \(Limits.hiddenLayers.upperBound) layer sizes, got \(config.hidden.count)"
            }
            return config.hidden.first { !Limits.hiddenWidth.contains($0) }.map { "sizes must be 1 to \(Limits.hiddenWidth.upperBound), got \($0)" }
        })

    public static let optimizer = TrainingSetting(
        flag: "optimizer", key: "optimizer", valueName: "NAME",
        help: "Optimiser: sgd, adam or adamw.",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in settings.config.optimizer = try value.choice(of: OptimizerKind.self) },
        value: { $0.config.optimizer.rawValue },
        problem: { _ in nil })

    public static let learningRate = TrainingSetting(
        flag: "lr", key: "learningRate", valueName: "LR",
        help: "Learning rate (the peak of a schedule; a recipe's is replaced by it).",
        recipe: .replaceable,
        read: { settings, value throws(SettingValueMismatch) in settings.config.learningRate = Float(try value.number()) },
        value: { "\($0.config.learningRate)" },
        problem: { config in
            let rate = config.learningRate
            return rate.isFinite && rate > 0 && rate <= Limits.learningRate ? nil : "must be a positive number up to \(Limits.learningRate), got \(rate)"
        })

    public static let momentum = TrainingSetting(
        flag: "momentum", key: "momentum", valueName: "M",
        help: "SGD momentum.",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in settings.config.momentum = Float(try value.number()) },
        value: { "\($0.config.momentum)" },
        problem: { config in
            config.momentum.isFinite && config.momentum >= 0 && config.momentum < 1 ? nil : "must be in [0, 1), got \(config.momentum)"
        })

    public static let nesterov = TrainingSetting(
        flag: "nesterov", key: "nesterov", valueName: nil,
        help: "Nesterov momentum (SGD, needs --momentum).",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in settings.config.nesterov = try value.bool() },
        value: { $0.config.nesterov ? "true" : nil },
        problem: { _ in nil })

    public static let weightDecay = TrainingSetting(
        flag: "weight-decay", key: "weightDecay", valueName: "WD",
        help: "Weight decay: L2 for sgd and adam, decoupled for adamw.",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in settings.config.weightDecay = Float(try value.number()) },
        value: { "\($0.config.weightDecay)" },
        problem: { config in
            let decay = config.weightDecay
            return decay.isFinite && decay >= 0 && decay <= Limits.weightDecay ? nil : "must be 0 to \(Limits.weightDecay), got \(decay)"
        })

    public static let schedule = TrainingSetting(
        flag: "schedule", key: "schedule", valueName: "SCHEDULE",
        help: "Learning-rate schedule: constant, step:EVERY:GAMMA, cosine[:MIN] or onecycle[:WARMUP].",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in
            let syntax = "constant, step:EVERY:GAMMA, cosine[:MIN] or onecycle[:WARMUP]"
            guard let schedule = LearningRateSchedule(parsing: try value.text(syntax)) else { throw SettingValueMismatch(expected: syntax, found: value) }
            settings.config.schedule = schedule
        },
        value: { "\($0.config.schedule)" },
        problem: { $0.schedule.problem })

    public static let warmup = TrainingSetting(
        flag: "warmup", key: "warmup", valueName: "STEPS",
        help: "Linear warmup: over the first STEPS steps the learning rate rises from 1/STEPS of the schedule's rate to all of it (step t trains at (t+1)/STEPS of it). Not with onecycle, which warms up itself.",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in settings.config.warmup = try value.integer() },
        value: { $0.config.warmup.map(String.init) },
        problem: { config in
            guard let warmup = config.warmup else { return nil }
            guard Limits.steps.contains(warmup) else { return "must be 1 to \(Limits.steps.upperBound) steps, got \(warmup)" }
            if case .oneCycle = config.schedule { return "does not combine with the onecycle schedule, which warms up itself" }
            return nil
        })

    public static let batchSize = whole(
        "batch-size", key: "batchSize", help: "Training batch size.", recipe: .set, field: \.batchSize, bounds: Limits.batchSize)

    public static let evaluationBatchSize = whole(
        "eval-batch-size", key: "evaluationBatchSize",
        help: "Batch size of the evaluation passes: speed and memory only, the results are the same (the CNNs use at most their training batch, and at least 32).",
        recipe: .left, field: \.evaluationBatchSize, bounds: Limits.batchSize)

    public static let epochs = whole(
        "epochs", key: "epochs", help: "Number of epochs (a recipe's is replaced by it).", recipe: .replaceable, field: \.epochs,
        bounds: Limits.epochs)

    public static let scale = TrainingSetting(
        flag: "scale", key: "scale", valueName: nil,
        help: "Divide pixels by 255 (the default; --no-scale feeds raw 0…255 values).",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in settings.config.scale = try value.bool() },
        value: { $0.config.scale ? "true" : nil },
        problem: { _ in nil })

    public static let noScale = TrainingSetting(
        flag: "no-scale", key: "scale", valueName: nil,
        help: "Feed raw 0…255 pixels instead of pixels/255.",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in settings.config.scale = !(try value.bool()) },
        value: { $0.config.scale ? nil : "true" },
        problem: { _ in nil })

    public static let seed = TrainingSetting(
        flag: "seed", key: "seed", valueName: "SEED",
        help: "Seed for initialisation, shuffling, augmentation and the validation split.",
        recipe: .left,
        read: { settings, value throws(SettingValueMismatch) in
            switch value {
            case .whole(let seed): settings.config.seed = seed
            case .number(let n) where n == n.rounded() && n >= 0 && n <= Double(Limits.fileSeed): settings.config.seed = UInt64(n)
            default: throw SettingValueMismatch(expected: "an integer ≥ 0 and ≤ \(Limits.fileSeed)", found: value)
            }
        },
        value: { "\($0.config.seed)" },
        problem: { _ in nil })

    public static let subset = TrainingSetting(
        flag: "subset", key: "trainingSubset", valueName: "N",
        help: "Train on the first N training images only (quick experiments).",
        recipe: .left,
        read: { settings, value throws(SettingValueMismatch) in settings.config.trainingSubset = try value.integer() },
        value: { $0.config.trainingSubset.map(String.init) },
        problem: { config in config.trainingSubset.flatMap { $0 < 1 ? "must be at least 1, got \($0)" : nil } })

    public static let normalize = TrainingSetting(
        flag: "normalize", key: "normalization", valueName: nil,
        help: "Normalise inputs by the training pixels' mean and standard deviation (measured when the run starts).",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in settings.normalize = try value.bool() },
        value: { $0.normalize ? "true" : nil },
        problem: { config in
            guard let normalization = config.normalization else { return nil }
            return normalization.mean.isFinite && normalization.std.isFinite && normalization.std > 0 ? nil
                : "needs a finite mean and a positive standard deviation, got \(normalization.mean) and \(normalization.std)"
        })

    public static let augment = TrainingSetting(
        flag: "augment", key: "augmentation", valueName: "LIST",
        help: "Training augmentation, comma-separated: flip, crop:PADDING, erase:PROBABILITY (e.g. flip,crop:2,erase:0.5), or none; convolutional models only.",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in
            let list = try value.text("none or a list of flip, crop:PADDING, erase:PROBABILITY (e.g. \"flip,crop:2\")")
            let augmentation: Augmentation
            do {
                augmentation = try Augmentation(parsing: list)
            } catch let error as AugmentationSyntaxError {
                throw SettingValueMismatch(reason: error.description, found: value)
            } catch {
                throw SettingValueMismatch(reason: "\(error)", found: value)
            }
            settings.config.augmentation = augmentation.isIdentity ? nil : augmentation
        },
        value: { $0.config.augmentation.map(\.summary) },
        problem: { config in
            guard let augmentation = config.augmentation, !augmentation.isIdentity else { return nil }
            guard Limits.cropPadding.contains(augmentation.cropPadding) else {
                return "crop padding must be 0 to \(Limits.cropPadding.upperBound), got \(augmentation.cropPadding)"
            }
            guard augmentation.erasing.isFinite, augmentation.erasing >= 0, augmentation.erasing <= 1 else {
                return "erasing must be a probability in [0, 1], got \(augmentation.erasing)"
            }
            return config.isConvolutional ? nil : "needs a convolutional model (cnn, cnn-large, or a description whose input_shape is [1, 28, 28])"
        })

    public static let labelSmoothing = TrainingSetting(
        flag: "label-smoothing", key: "labelSmoothing", valueName: "EPSILON",
        help: "Label smoothing of the training loss, in [0, 1) (PyTorch's CrossEntropyLoss(label_smoothing:)).",
        recipe: .set,
        read: { settings, value throws(SettingValueMismatch) in
            let smoothing = Float(try value.number())
            settings.config.labelSmoothing = smoothing == 0 ? nil : smoothing
        },
        value: { $0.config.labelSmoothing.map { "\($0)" } },
        problem: { config in
            guard let smoothing = config.labelSmoothing else { return nil }
            return smoothing.isFinite && smoothing >= 0 && smoothing < 1 ? nil : "must be in [0, 1), got \(smoothing)"
        })

    public static let trainMetrics = choice(
        "train-metrics", key: "trainingMetrics", valueName: "HOW",
        help: "Training accuracy after each epoch: whole-set (a pass over the training set, the notebook's; the default) or batches (the running mean over the epoch's batches, free).",
        recipe: .set, field: \.trainingMetrics, standard: .wholeSet)

    public static let validationSplit = TrainingSetting(
        flag: "val-split", key: "validationSplit", valueName: "N|FRACTION",
        help: "Hold out N training images (or a fraction, e.g. 0.1), stratified by class and chosen from the seed, as the validation set; the test set is then measured once, at the end. Without it the test set is the validation set (the notebook's way).",
        recipe: .left,
        read: { settings, value throws(SettingValueMismatch) in
            let expected = "a number of images ≥ 1 or a fraction in (0, 1)"
            let split: ValidationSplit? = switch value {
            case .text(let text): ValidationSplit(parsing: text)
            default: ValidationSplit(number: try value.number())
            }
            guard let split else { throw SettingValueMismatch(expected: expected, found: value) }
            settings.split = split
        },
        value: { $0.split.map { "\($0)" } },
        problem: { config in
            guard let split = config.validationSplit, !Limits.validationSplit.contains(split) else { return nil }
            return "must hold out 1 to \(Limits.validationSplit.upperBound) images, got \(split)"
        })

    public static let monitor = choice(
        "monitor", key: "monitor", valueName: "METRIC",
        help: "What picks the best epoch (best.safetensors) and what --early-stop watches: val-loss (the default) or val-accuracy.",
        recipe: .left, field: \.monitor, standard: .validationLoss)

    public static let earlyStop = TrainingSetting(
        flag: "early-stop", key: "earlyStopping.patience", valueName: "PATIENCE",
        help: "Stop after PATIENCE epochs without improvement of --monitor, and restore the best epoch's weights (Keras' EarlyStopping with restore_best_weights).",
        recipe: .left,
        read: { settings, value throws(SettingValueMismatch) in settings.patience = try value.integer() },
        value: { $0.patience.map(String.init) },
        problem: { config in
            guard let patience = config.earlyStopping?.patience, !Limits.patience.contains(patience) else { return nil }
            return "must be 1 to \(Limits.patience.upperBound) epochs, got \(patience)"
        })

    public static let minDelta = TrainingSetting(
        flag: "min-delta", key: "earlyStopping.minDelta", valueName: "D",
        help: "The least change of --monitor that counts as an improvement (with --early-stop).",
        recipe: .left,
        read: { settings, value throws(SettingValueMismatch) in settings.minDelta = try value.number() },
        value: { $0.minDelta == 0 ? nil : SettingValue.trimmed($0.minDelta) },
        problem: { config in
            guard let delta = config.earlyStopping?.minDelta else { return nil }
            return delta.isFinite && delta >= 0 && delta <= 1e6 ? nil : "must be a number from 0 to 1000000, got \(delta)"
        })

    public static let logEvery = whole(
        "log-every", key: "logEvery",
        help: "Record the mean training loss of every N steps in metrics.json; the loss chart draws it under the epochs' points.",
        recipe: .left, field: \.logEvery, bounds: Limits.steps, unit: " steps")

    /// A whole-number setting stored in `field`, held to `bounds` (`must be 1 to 100000, got 0`).
    static func whole(_ flag: String, key: String, help: String, recipe: RecipeRole,
                      field: WritableKeyPath<TrainingConfig, Int> & Sendable, bounds: ClosedRange<Int>, unit: String = "") -> TrainingSetting {
        TrainingSetting(
            flag: flag, key: key, valueName: "N", help: help, recipe: recipe,
            read: { settings, value throws(SettingValueMismatch) in settings.config[keyPath: field] = try value.integer() },
            value: { "\($0.config[keyPath: field])" },
            problem: { config in
                let number = config[keyPath: field]
                return bounds.contains(number) ? nil : "must be \(bounds.lowerBound) to \(bounds.upperBound)\(unit), got \(number)"
            })
    }

    /// An optional whole-number setting (unset: none) stored in `field`, held to `bounds` when set.
    static func whole(_ flag: String, key: String, help: String, recipe: RecipeRole,
                      field: WritableKeyPath<TrainingConfig, Int?> & Sendable, bounds: ClosedRange<Int>, unit: String = "") -> TrainingSetting {
        TrainingSetting(
            flag: flag, key: key, valueName: "N", help: help, recipe: recipe,
            read: { settings, value throws(SettingValueMismatch) in settings.config[keyPath: field] = try value.integer() },
            value: { $0.config[keyPath: field].map(String.init) },
            problem: { config in
                guard let number = config[keyPath: field], !bounds.contains(number) else { return nil }
                return "must be \(bounds.lowerBound) to \(bounds.upperBound)\(unit), got \(number)"
            })
    }

    /// One of `T`'s names, stored in `field`; `standard`, the default, is stored as nil (as older files have it).
    static func choice<T: RawRepresentable & CaseIterable & Equatable & Sendable>(
        _ flag: String, key: String, valueName: String, help: String, recipe: RecipeRole,
        field: WritableKeyPath<TrainingConfig, T?> & Sendable, standard: T
    ) -> TrainingSetting where T.RawValue == String {
        TrainingSetting(
            flag: flag, key: key, valueName: valueName, help: help, recipe: recipe,
            read: { settings, value throws(SettingValueMismatch) in
                let chosen = try value.choice(of: T.self)
                settings.config[keyPath: field] = chosen == standard ? nil : chosen
            },
            value: { $0.config[keyPath: field]?.rawValue },
            problem: { _ in nil })
    }
}
