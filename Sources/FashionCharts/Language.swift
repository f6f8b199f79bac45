import Foundation

/// A language FashionLab writes its reports, charts and pages in: English, or Vietnamese (the course's).
///
/// One mechanism for every text: a phrase is given in both languages where it is used,
/// `language.t("loss", "hàm mất mát")`, and numbers are written with the language's separators. The report's
/// phrases are `Language` members in FashionStudies, the charts' are ``ChartWords``, the dashboard's a keyed table
/// (its page script needs the words as JSON). Class names stay in English, as the dataset publishes them.
public struct Language: Sendable, Equatable {
    /// `en` or `vi`, as `--lang` and `?lang=` take it.
    public let code: String

    public static let english = Language(code: "en")
    public static let vietnamese = Language(code: "vi")
    public static let all = [english, vietnamese]

    /// The language of `code`, or nil for a code FashionLab does not write.
    public static func named(_ code: String) -> Language? { all.first { $0.code == code } }

    /// The English or the Vietnamese of a phrase (or of any value that differs between the two).
    public func t<Phrase>(_ english: Phrase, _ vietnamese: Phrase) -> Phrase { self == .vietnamese ? vietnamese : english }

    // MARK: Numbers

    /// 0.8503 → "85.0%" (Vietnamese "85,0%"); "–" for nil or a non-finite value.
    public func percent(_ value: Double?, digits: Int = 1) -> String {
        guard let value, value.isFinite else { return "–" }
        return decimal(value * 100, digits: digits) + "%"
    }

    /// `value` with `digits` decimals and the language's decimal mark; NaN and ∞ as such.
    public func decimal(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : "∞" }
        return t(String(format: "%.\(digits)f", value), String(format: "%.\(digits)f", value).replacingOccurrences(of: ".", with: ","))
    }

    /// 1875 → "1,875" (Vietnamese "1.875").
    public func integer(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var groups: [String] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(String(digits[start..<end]), at: 0)
            end = start
        }
        return (value < 0 ? "-" : "") + groups.joined(separator: t(",", "."))
    }

    /// 12.34 → "12.3 s".
    public func seconds(_ value: Double) -> String { decimal(value, digits: 1) + " s" }
}
