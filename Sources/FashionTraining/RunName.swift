import Foundation

/// How runs are named: `fashionlab train`'s default directory (`runs/NAME`) and the hash that tells apart the
/// directories of the lab's runs.
public enum RunName {
    /// The default name of a `train` run: a readable prefix (the model unless it is the MLP, optimiser, learning
    /// rate, batch size, scaling), the epochs and seed, and ``hash(_:)`` of the whole configuration, so two runs
    /// that differ in any setting that changes the result (hidden sizes, schedule, momentum, augmentation, the
    /// measured normalisation, the subset…) never share a directory: `adam-lr0.001-b32-scaled-e5-s0-3f9a0c12`,
    /// `cnn-adam-lr0.004-b64-scaled-e6-s0-…`, `recipe-cnn-e6-s0-…`. `modelName` names a custom model (`train`
    /// gives `custom-` and its file's base name); without it a custom model is `custom`.
    public static func `default`(for config: TrainingConfig, recipe: String?, modelName: String? = nil) -> String {
        let tail = "e\(config.epochs)-s\(config.seed)-\(hash(config))"
        if let recipe { return "recipe-\(recipe)-\(tail)" }
        let model = config.model == .mlp ? "" : (modelName ?? config.model.rawValue) + "-"
        return model + "\(config.optimizer.rawValue)-lr\(config.learningRate)-b\(config.batchSize)-\(config.scale ? "scaled" : "unscaled")-\(tail)"
    }

    /// The default folder of `train --seeds`: the name of the first seed's run with `seeds0-1-2` in place of its
    /// seed, and the hash of the settings with the seed left out (`adam-lr0.001-b32-scaled-e5-seeds0-1-2-…`).
    public static func seeds(for config: TrainingConfig, seeds: [UInt64], recipe: String?, modelName: String? = nil) -> String {
        var unseeded = config
        unseeded.seed = 0
        let name = self.default(for: unseeded, recipe: recipe, modelName: modelName)
        let single = "-e\(config.epochs)-s0-\(hash(unseeded))"
        let list = seeds.count <= 8 ? seeds.map(String.init).joined(separator: "-") : "\(seeds.count)"
        return String(name.dropLast(single.count)) + "-e\(config.epochs)-seeds\(list)-\(hash(unseeded))"
    }

    /// A short, stable hash of a configuration: 8 hex digits of FNV-1a over its JSON with sorted keys.
    public static func hash(_ config: TrainingConfig) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(config)) ?? Data()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(String(hash, radix: 16).prefix(8))
    }
}
