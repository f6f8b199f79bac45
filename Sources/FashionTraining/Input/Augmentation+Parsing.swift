extension Augmentation {
    /// Parses the `--augment` syntax (also a study file's `augment`): `none`, or a comma-separated list of `flip`,
    /// `crop:PADDING` (1–8) and `erase:PROBABILITY` (in (0, 1]), e.g. `flip,crop:2,erase:0.3`. `none` gives the
    /// identity (`isIdentity`); a run stores that as no augmentation (nil).
    public init(parsing text: String) throws(AugmentationSyntaxError) {
        self.init()
        guard text != "none" else { return }
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch (parts[0], parts.count) {
            case ("flip", 1): flip = true
            case ("crop", 2):
                guard let padding = Int(parts[1]), (1...8).contains(padding) else {
                    throw AugmentationSyntaxError(item: String(item), problem: "crop padding must be a whole number from 1 to 8")
                }
                cropPadding = padding
            case ("erase", 2):
                guard let probability = Float(parts[1]), probability > 0, probability <= 1 else {
                    throw AugmentationSyntaxError(item: String(item), problem: "erase probability must be in (0, 1]")
                }
                erasing = probability
            default:
                throw AugmentationSyntaxError(item: String(item), problem: nil)
            }
        }
    }
}

/// One item of an augmentation list that cannot be used: `'crop:20': crop padding must be a whole number from 1 to 8`,
/// or `'rotate' is not flip, crop:PADDING or erase:PROBABILITY` for an unknown one.
public struct AugmentationSyntaxError: Error, CustomStringConvertible, Equatable {
    public let item: String
    /// What is wrong with a known item; nil for an item that is none of them.
    public let problem: String?
    public init(item: String, problem: String?) {
        self.item = item
        self.problem = problem
    }
    public var description: String {
        problem.map { "'\(item)': \($0)" } ?? "'\(item)' is not flip, crop:PADDING or erase:PROBABILITY"
    }
}
