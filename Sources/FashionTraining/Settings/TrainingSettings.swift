/// A run's settings as a user gives them, by `train`'s flags or a study file's keys: the configuration, and what is
/// resolved against the data when the run starts (the normalisation statistics, the validation split).
///
/// ```swift
/// var settings = TrainingSettings()
/// try settings.set(.learningRate, to: .number(0.001), from: "--lr")
/// let config = try settings.validated()
/// ```
public struct TrainingSettings: Sendable, Equatable {
    public var config = TrainingConfig()
    /// Normalise inputs by the training pixels' mean and standard deviation, measured when the run starts.
    public var normalize = false
    /// The validation split as given (a fraction is resolved against the training set when the run starts).
    public var split: ValidationSplit?
    /// Early stopping's patience and least improvement, made into `config.earlyStopping` by `validated()`.
    var patience: Int?
    var minDelta = 0.0
    /// Where each setting given came from, by flag: `--lr`, `base.lr`, `grid.lr[2]`.
    public private(set) var origins: [String: String] = [:]
    /// The recipe the settings started from, if any.
    public private(set) var recipe: Recipe?

    public init() {}

    /// A recipe's settings, to which a user may add the settings it leaves (and replace its replaceable ones).
    public init(recipe: Recipe) {
        config = recipe.config
        normalize = recipe.normalize
        self.recipe = recipe
    }

    public static func == (a: TrainingSettings, b: TrainingSettings) -> Bool {
        a.config == b.config && a.normalize == b.normalize && a.split == b.split && a.patience == b.patience
            && a.minDelta == b.minDelta && a.origins == b.origins && a.recipe?.name == b.recipe?.name
    }

    /// Sets `setting` to `value`, given at `origin`. Checks the value's kind and the rules between settings that are
    /// about what was given (scale and no-scale, a recipe's settings); bounds are `validated()`'s.
    public mutating func set(_ setting: TrainingSetting, to value: SettingValue, from origin: String) throws(SettingProblem) {
        func problem(_ message: String) -> SettingProblem {
            var problem = setting.problem(message)
            problem.origin = origin
            return problem
        }
        if let recipe, setting.recipe == .set {
            throw problem("is set by --recipe \(recipe.name) itself; leave --\(setting.flag) out, or give every flag without --recipe")
        }
        let opposite = ["scale": "no-scale", "no-scale": "scale"][setting.flag]
        if let opposite, let other = origins[opposite] {
            throw problem("contradicts \(other); give scale or no-scale, not both")
        }
        do {
            try setting.read(&self, value)
        } catch {
            var mismatch = problem(error.message)
            mismatch.mismatch = error
            throw mismatch
        }
        origins[setting.flag] = origin
    }

    /// The configuration these settings make, early stopping included, checked as every run's is
    /// (`TrainingConfig.validate()`) and by the rules about what was given together; a problem names where the
    /// value was given.
    public func validated() throws(SettingProblem) -> TrainingConfig {
        func problem(_ setting: TrainingSetting, _ message: String) -> SettingProblem {
            var problem = setting.problem(message)
            problem.origin = origins[setting.flag]
            return problem
        }
        if origins[TrainingSetting.minDelta.flag] != nil, patience == nil {
            throw problem(.minDelta, "applies to early-stop; give early-stop PATIENCE too")
        }
        if origins[TrainingSetting.hidden.flag] != nil, config.model != .mlp {
            throw problem(.hidden, "sizes the MLP only; model \(config.model.rawValue) does not take it")
        }
        var config = config
        config.earlyStopping = patience.map { EarlyStopping(patience: $0, minDelta: minDelta) }
        do {
            try config.validate()
        } catch let error as SettingProblem {
            var located = error
            located.origin = origins[error.flag]
            throw located
        } catch {
            throw problem(.model, "\(error)")
        }
        return config
    }
}
