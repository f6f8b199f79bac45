extension TrainingSetting {
    /// The settings as a Markdown table — flag, default, what a recipe does with it, what it sets — as
    /// `docs/training.md` holds it (`fashionlab settings --markdown` prints it; a test keeps the page equal to it).
    public static var markdownTable: String {
        var lines = ["| flag (study-file key) | default | with `--recipe` | what it sets |", "| --- | --- | --- | --- |"]
        for setting in all {
            let flag = "`--\(setting.flag)\(setting.valueName.map { " \($0)" } ?? "")`"
            let value = setting.value(in: TrainingSettings())
            let standard = setting.isSwitch ? (value == nil ? "off" : "on") : value.map { "`\($0)`" } ?? "none"
            let recipe = switch setting.recipe {
            case .left: "yours to give"
            case .set: "set by the recipe"
            case .replaceable: "replaces the recipe's"
            }
            lines.append("| \(flag) | \(standard) | \(recipe) | \(setting.help) |".replacingOccurrences(of: "N|FRACTION", with: "N\\|FRACTION"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension TrainingSetting {
    /// The settings for a terminal: a line each with the flag and its default, then what it sets.
    public static var listing: String {
        all.map { setting in
            let flag = "--\(setting.flag)\(setting.valueName.map { " \($0)" } ?? "")"
            return flag.padding(toLength: max(26, flag.count + 2), withPad: " ", startingAt: 0) + setting.helpText
        }.joined(separator: "\n") + "\n"
    }
}
