import Foundation

/// JSON for numbers that may not be finite: a diverged run's loss, a broken model's outputs. JSON has no NaN or
/// infinity, so FashionLab writes them as the strings `"nan"`, `"inf"` and `"-inf"` and reads them back the same
/// way — in `metrics.json`, checkpoints, `evaluation.json`, `--json` output and the dashboard's API alike.
public enum NonFiniteJSON {
    /// An encoder that writes NaN and ±infinity as `"nan"`, `"inf"` and `"-inf"`.
    public static func encoder(_ formatting: JSONEncoder.OutputFormatting = []) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// A decoder that reads `"nan"`, `"inf"` and `"-inf"` back as numbers.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
