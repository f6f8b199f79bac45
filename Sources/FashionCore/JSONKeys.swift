import Foundation

/// Repeated keys in JSON objects. JSON allows them and every decoder here keeps only one (which one depends on
/// the decoder, even on a hash seed), so a file that names a tensor, a setting or a layer argument twice could
/// mean one thing to one reader and another to the next: such files are refused.
public enum JSONKeys {
    /// The first key that appears twice in one object of `json` (valid JSON, already parsed once), compared as
    /// Swift compares the `String` keys of a decoded dictionary; nil when every object's keys are distinct.
    public static func firstRepeated(in json: some Collection<UInt8>) -> String? {
        let bytes = Array(json)
        // One entry per open object or array: the keys seen so far, and whether the next string is a key.
        var open: [(isObject: Bool, keys: Set<String>, expectsKey: Bool)] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"): open.append((true, [], true))
            case UInt8(ascii: "["): open.append((false, [], false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = open.popLast()
            case UInt8(ascii: ","): if open.last?.isObject == true { open[open.count - 1].expectsKey = true }
            case UInt8(ascii: "\""):
                var end = index + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
                if let last = open.last, last.isObject, last.expectsKey {
                    let key = decodeString(bytes[(index + 1)..<min(end, bytes.count)])
                    if !open[open.count - 1].keys.insert(key).inserted { return key }
                    open[open.count - 1].expectsKey = false
                }
                index = end
            default: break
            }
            index += 1
        }
        return nil
    }

    /// The text of a JSON string's contents (between the quotes), its escapes decoded.
    static func decodeString(_ raw: ArraySlice<UInt8>) -> String {
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        let literal = Data([UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")])
        return (try? JSONDecoder().decode(String.self, from: literal)) ?? String(decoding: raw, as: UTF8.self)
    }
}

/// A JSON document that names one key twice in an object.
public struct RepeatedJSONKey: Error, CustomStringConvertible, Equatable {
    public let key: String
    public init(key: String) { self.key = key }
    public var description: String { "the key '\(key)' appears twice in one object (which one counts would be a guess)" }
}

extension JSONDecoder {
    /// Decodes `type` from `data` and refuses a document that repeats a key in an object (``JSONKeys``).
    public func decodeRefusingRepeatedKeys<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let value = try decode(type, from: data)
        if let key = JSONKeys.firstRepeated(in: data) { throw RepeatedJSONKey(key: key) }
        return value
    }
}
