import Foundation

/// Reading the one picture out of a `multipart/form-data` body (RFC 7578), as a browser's form or
/// `curl -F image=@photo.jpg` sends it. Only what predict needs: the first part that carries a file name,
/// or else the first part. A body without its closing boundary (cut short) is refused, not guessed at.
enum Multipart {
    static func firstFile(in body: [UInt8], contentType: String) throws -> [UInt8] {
        guard let boundary = boundary(in: contentType) else {
            throw ServeError(.badRequest, "multipart/form-data without a boundary parameter")
        }
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [(headers: String, body: ArraySlice<UInt8>)] = []
        guard var start = find(delimiter, in: body, from: 0) else {
            throw ServeError(.badRequest, "the multipart body does not contain its boundary")
        }
        var closed = false
        while true {
            var cursor = start + delimiter.count
            if body[cursor...].starts(with: Array("--".utf8)) { closed = true; break }
            guard body[cursor...].starts(with: Array("\r\n".utf8)) else { break }
            cursor += 2
            guard let headerEnd = find(Array("\r\n\r\n".utf8), in: body, from: cursor),
                  let next = find(Array("\r\n".utf8) + delimiter, in: body, from: headerEnd + 4) else { break }
            parts.append((String(decoding: body[cursor..<headerEnd], as: UTF8.self), body[(headerEnd + 4)..<next]))
            start = next + 2
        }
        guard closed else { throw ServeError(.badRequest, "the multipart body is cut short (no closing boundary)") }
        guard let part = parts.first(where: { $0.headers.lowercased().contains("filename=") }) ?? parts.first else {
            throw ServeError(.badRequest, "the multipart body has no parts")
        }
        return Array(part.body)
    }

    /// The `boundary` parameter of a Content-Type, unquoted (1 to 70 characters, RFC 2046).
    static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = from
        while index <= haystack.count - needle.count {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
