import FashionTraining
import Foundation

/// Changes to the values inside a JSON text that keep it valid JSON: a setting set to 0, −1, 10¹⁵, 9·10¹⁸,
/// NaN or a string of the wrong kind, a key removed or added, an array emptied or grown, a value of another
/// type. The decoders and validators behind it must refuse each with an error, or accept a value they can use.
enum JSONMutation {
    nonisolated(unsafe) static let numbers: [Any] = [0, -1, 1, 2, 3, 7, 10, 28, 32, 784, 1000, 65_536, 2_147_483_648, 9_007_199_254_740_993,
                                 1e15, 9.2e18, -9.2e18, 1e308, -1e308, 0.5, -0.5, 1e-30, 3.4e38, 255]
    static let strings = ["", "nan", "inf", "-inf", "mlp", "cnn", "cnn-large", "custom", "sgd", "adam", "adamw", "cosine",
                          "step:0:0", "step:1:nan", "one-cycle", "flip", "flip,crop:99", "crop:-1", "erase:2",
                          "whole-set", "batches", "Linear", "Conv2d", "BatchNorm2d", "ReLU", "Flatten", "MaxPool2d",
                          "Dropout", "AvgPool2d", "AdaptiveAvgPool2d", "..", "a/b", "<script>",
                          String(repeating: "x", count: 5000)]
    /// Keys to add: every training setting's (from the table, as `metrics.json` and checkpoints store them), a
    /// model description's, a history's, and one that nothing knows.
    static let keys = Array(Set(TrainingSetting.all.map { String($0.key.prefix { $0 != "." }) })).sorted()
        + ["architecture", "layers", "type", "in_features", "out_features", "in_channels", "out_channels", "kernel_size",
           "stride", "padding", "num_features", "p", "input_shape", "epoch", "trainLoss", "unknown"]

    /// `text` with one to three changes, or `text` itself when it is not JSON.
    static func mutate(_ text: String, _ m: inout Mutator) -> String {
        guard var root = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return text }
        for _ in 0...m.below(3) { root = mutate(root, &m, depth: 0) }
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.fragmentsAllowed, .sortedKeys]) else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    /// One change somewhere in `value`: at this node, or in a child chosen at random.
    static func mutate(_ value: Any, _ m: inout Mutator, depth: Int) -> Any {
        if var object = value as? [String: Any], !object.isEmpty, depth < 12, !m.oneIn(4) {
            let key = m.pick(object.keys.sorted())
            switch m.below(8) {
            case 0: object[key] = nil
            case 1: object[m.pick(keys)] = replacement(&m)
            default: object[key] = mutate(object[key]!, &m, depth: depth + 1)
            }
            return object
        }
        if var array = value as? [Any], !array.isEmpty, depth < 12, !m.oneIn(4) {
            let index = m.below(array.count)
            switch m.below(8) {
            case 0: array.remove(at: index)
            case 1: array.insert(array[index], at: m.below(array.count + 1))
            case 2: array = []
            default: array[index] = mutate(array[index], &m, depth: depth + 1)
            }
            return array
        }
        return replacement(&m)
    }

    /// A value of any JSON kind, mostly the kinds of settings.
    static func replacement(_ m: inout Mutator) -> Any {
        switch m.below(10) {
        case 0...4: return m.pick(numbers)
        case 5, 6: return m.pick(strings)
        case 7: return m.pick([true, false] as [Any])
        case 8: return m.pick([NSNull(), [Any](), [String: Any](), [m.pick(numbers)], [1000, 1000, 1000]] as [Any])
        default: return [m.pick(numbers), m.pick(numbers)]
        }
    }
}
