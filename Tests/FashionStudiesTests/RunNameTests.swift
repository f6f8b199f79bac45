import Testing
import FashionTraining

@Suite struct RunNameTests {
    @Test func defaultNamesKeepTheReadablePrefixAndAddEpochsAndAHash() {
        var config = TrainingConfig()
        config.optimizer = .adam
        config.learningRate = 0.001
        let name = RunName.default(for: config, recipe: nil)
        #expect(name == "adam-lr0.001-b32-scaled-e5-s0-" + RunName.hash(config))
        #expect(RunName.hash(config).count == 8)
        // Each setting that changes the result changes the name.
        let changes: [(inout TrainingConfig) -> Void] = [
            { $0.hidden = [64] }, { $0.epochs = 2 }, { $0.schedule = .cosine(minimum: 0) }, { $0.momentum = 0.5 },
            { $0.augmentation = Augmentation(flip: true) }, { $0.labelSmoothing = 0.1 }, { $0.trainingSubset = 100 },
            { $0.normalization = .init(mean: 0.3, std: 0.35) }, { $0.weightDecay = 0.01 }, { $0.seed = 1 },
        ]
        var seen: Set<String> = [name]
        for index in changes.indices {
            var changed = config
            changes[index](&changed)
            seen.insert(RunName.default(for: changed, recipe: nil))
        }
        #expect(seen.count == changes.count + 1)
        config.model = .cnn
        #expect(RunName.default(for: config, recipe: nil).hasPrefix("cnn-adam-lr0.001-b32-scaled-e5-s0-"))
        config.model = .custom
        #expect(RunName.default(for: config, recipe: nil, modelName: "custom-net").hasPrefix("custom-net-adam-"))
        #expect(RunName.default(for: Recipe.cnn.config, recipe: "cnn").hasPrefix("recipe-cnn-e6-s0-"))
    }
}
