import FashionEngine

extension TrainingConfig {
    /// Checks every setting against its bounds (each setting's own, from `TrainingSetting.all`), the network
    /// (`modelDescription().validate()`, which bounds parameters and activations per image), the rules between
    /// settings, and the memory a batch of training and of evaluation keeps. The one check of settings from every
    /// source: flags, study files, checkpoints, `metrics.json`, model files. Throws a `SettingProblem`.
    public func validate() throws {
        // Each setting's own bounds first: an MLP's hidden sizes bound its description's size.
        for setting in TrainingSetting.all {
            if let message = setting.problem(self) { throw setting.problem(message) }
        }
        let check: ModelDescription.Check
        do {
            check = try modelDescription().validate()
        } catch {
            throw SettingProblem(.model, "does not describe a usable network: \(error)").storedAs(model == .custom ? "architecture" : "model")
        }
        guard momentum == 0 || optimizer == .sgd else {
            throw TrainingSetting.momentum.problem("applies to the sgd optimiser only, got \(momentum) with \(optimizer.rawValue)")
        }
        guard !nesterov || (momentum > 0 && optimizer == .sgd) else {
            throw TrainingSetting.nesterov.problem("needs the sgd optimiser and a momentum above 0")
        }
        for (setting, size) in [(TrainingSetting.batchSize, batchSize), (.evaluationBatchSize, effectiveEvaluationBatchSize)] {
            if let tooMuch = check.workingMemoryProblem(batchSize: size) { throw setting.problem("\(size) is too large: \(tooMuch)") }
        }
    }
}

extension LearningRateSchedule {
    /// What is wrong with this schedule's parameters, or nil (the bounds `init(parsing:)` holds text to).
    var problem: String? {
        switch self {
        case .constant: nil
        case let .step(every, gamma):
            every >= 1 && every <= 100_000 && gamma.isFinite && gamma > 0 && gamma <= 10 ? nil
                : "step:EVERY:GAMMA needs EVERY of 1 to 100000 and GAMMA in (0, 10], got step:\(every):\(gamma)"
        case let .cosine(minimum):
            minimum.isFinite && minimum >= 0 ? nil : "cosine:MIN needs a MIN of 0 or more, got \(minimum)"
        case let .oneCycle(warmup):
            warmup.isFinite && warmup > 0 && warmup < 1 ? nil : "onecycle:WARMUP needs WARMUP in (0, 1), got \(warmup)"
        }
    }
}
