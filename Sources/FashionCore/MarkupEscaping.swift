/// The one escaper for text that goes into HTML or SVG (element text and attribute values alike).
///
/// It works on Unicode scalars, not `Character`s: a `Character` is a whole grapheme cluster, so `<`
/// followed by a combining mark (`"<\u{301}script>"`) is one `Character` that is not equal to `"<"`
/// and would pass through unescaped. Here every `&`, `<`, `>`, `"` and `'` scalar becomes an entity
/// reference, whatever follows it, and the scalars XML 1.0 forbids (U+0000–U+0008, U+000B, U+000C,
/// U+000E–U+001F, U+FFFE, U+FFFF) become U+FFFD REPLACEMENT CHARACTER, so the document stays
/// well-formed. (Lone surrogates cannot occur in a Swift `String`.)
public enum Markup {
    public static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        out.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            default:
                out.append(isAllowedInXML(scalar) ? scalar : "\u{FFFD}")
            }
        }
        return String(out)
    }

    /// False for the scalars XML 1.0 does not allow in a document.
    public static func isAllowedInXML(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: true
        case 0x00...0x1F: false
        case 0xFFFE, 0xFFFF: false
        default: true
        }
    }
}
