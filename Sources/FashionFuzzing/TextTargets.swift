import Foundation
import FoundationXML
import FashionCore

/// Random Unicode — markup characters, combining marks after them, joiners, controls, separators, bidi
/// overrides, look-alikes, astral scalars — through the one escaper and the one name validator, each output
/// checked by what it promises: the escaped text, put in an element and in an attribute, parses back (by
/// libxml2) to one element with one attribute, holding exactly the input; an accepted name, made a directory,
/// is one new entry inside its parent folder and nowhere else.
extension FuzzTargets {
    static var markup: FuzzTarget {
        .structured("markup", summary: "random Unicode through Markup.escape, parsed back as XML",
                    seeds: UnicodeText.seeds, mutate: UnicodeText.mutate) { text in
            let escaped = Markup.escape(text)
            let document = "<t a=\"\(escaped)\" b='\(escaped)'>\(escaped)</t>"
            let reader = ParsedElements(Data(document.utf8))
            guard reader.ok else { throw FuzzViolation("escaped text is not well-formed XML: \(text.debugDescription): \(reader.error)") }
            guard reader.elements == ["t"], reader.attributes.count == 1, Set(reader.attributes[0].keys) == ["a", "b"] else {
                throw FuzzViolation("markup came through the escaper: \(text.debugDescription) parsed as \(reader.elements) \(reader.attributes)")
            }
            // What XML does to the text on the way back in: forbidden scalars were replaced, line ends normalised,
            // and (in attributes) tab and line ends become spaces.
            var content: [Unicode.Scalar] = []
            var previous: Unicode.Scalar?
            for scalar in text.unicodeScalars {
                if !(scalar == "\n" && previous == "\r") {  // \r\n became one \n
                    content.append(scalar == "\r" ? "\n" : Markup.isAllowedInXML(scalar) ? scalar : "\u{FFFD}")
                }
                previous = scalar
            }
            let attribute = content.map { $0 == "\t" || $0 == "\n" ? " " : $0 }
            guard reader.text.unicodeScalars.elementsEqual(content) else {
                throw FuzzViolation("text \(text.debugDescription) came back as \(reader.text.debugDescription)")
            }
            guard reader.attributes[0]["a"]!.unicodeScalars.elementsEqual(attribute),
                  reader.attributes[0]["b"]!.unicodeScalars.elementsEqual(attribute) else {
                throw FuzzViolation("attribute \(text.debugDescription) came back as \(reader.attributes[0])")
            }
        }
    }

    static var pathName: FuzzTarget {
        .structured("path-name", summary: "random Unicode through PathName.validate; accepted names made directories",
                    seeds: UnicodeText.seeds, mutate: UnicodeText.mutate) { name in
            try PathName.validate(name, what: "fuzz name")
            let parent = NameScratch.shared.parent
            let grandparent = (parent as NSString).deletingLastPathComponent
            let before = try NameScratch.entries(of: grandparent)
            guard FileManager.default.createFile(atPath: parent + "/" + name, contents: nil) else {
                throw FuzzViolation("accepted name \(name.debugDescription) cannot be created in its folder")
            }
            let inside = try NameScratch.entries(of: parent)
            let outside = try NameScratch.entries(of: grandparent)
            for entry in inside { try FileManager.default.removeItem(atPath: parent + "/" + entry) }
            guard inside.count == 1, inside[0].unicodeScalars.elementsEqual(name.unicodeScalars) else {
                throw FuzzViolation("accepted name \(name.debugDescription) made \(inside) in its folder")
            }
            guard Set(outside) == Set(before) else {
                throw FuzzViolation("accepted name \(name.debugDescription) wrote outside its folder: \(Set(outside).subtracting(before))")
            }
        }
    }
}

/// The folder the name target creates entries in, inside a folder of its own (to see anything land beside it).
final class NameScratch: @unchecked Sendable {
    static let shared = NameScratch()
    let parent: String
    /// Every entry of `directory` as the system lists it (Foundation's listing leaves out AppleDouble `._` names).
    static func entries(of directory: String) throws -> [String] {
        guard let stream = opendir(directory) else { throw FuzzViolation("cannot list \(directory)") }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    private init() {
        parent = LoaderSeeds.temporaryDirectory + "/fashionlab-fuzz-names-\(getpid())/parent"
        try? FileManager.default.removeItem(atPath: parent)
        try! FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }
}

/// Strings made of the scalars that break escapers and name checks.
enum UnicodeText {
    static let seeds = ["", "plain", "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "a&b", "..", "a/b",
                        "<\u{301}b>", "\u{202E}lmth.exe", "x\u{0}y", "tab\there\r\nline", "\u{FEFF}\u{FFFE}\u{FFFF}",
                        "Áo sơ mi ✓ 👕\u{200D}🔥", "\u{10FFFF}\u{E000}"]

    /// Groups of scalars, each drawn from with equal chance.
    static let pools: [[UInt32]] = [
        Array(0x20...0x7E),                                       // printable ASCII
        Array("<>&\"'/\\.=;:#- ".unicodeScalars.map(\.value)),     // markup and path characters
        Array(0x300...0x36F) + [0x20D2, 0x20E5, 0x338, 0x1AB0],   // combining marks
        [0x200B, 0x200C, 0x200D, 0x2060, 0xFE0E, 0xFE0F, 0xFEFF],  // zero-width, joiners, variation selectors, BOM
        Array(0x00...0x1F) + Array(0x7F...0x9F),                  // C0, DEL, C1
        [0x2028, 0x2029, 0x85, 0x202A, 0x202E, 0x2066, 0x2069],   // separators and bidi controls
        [0xFF1C, 0xFF1E, 0xFE64, 0xFE65, 0x2039, 0x203A, 0x2215, 0x2044, 0xFF0F, 0x2024, 0xFE52],  // look-alikes
        [0xFFFD, 0xFFFE, 0xFFFF, 0x1F455, 0x1F525, 0x10FFFF, 0xE000, 0x1EA0, 0x1EF9, 0x4E2D],   // specials, emoji, astral
    ]

    static func mutate(_ text: inout String, _ m: inout Mutator) {
        var scalars = Array(text.unicodeScalars)
        for _ in 0...m.below(4) {
            let scalar = Unicode.Scalar(m.pick(m.pick(pools)))!
            switch m.below(4) {
            case 0 where !scalars.isEmpty: scalars[m.below(scalars.count)] = scalar
            case 1 where !scalars.isEmpty: scalars.remove(at: m.below(scalars.count))
            case 2 where scalars.count < 400: scalars += Array(repeating: scalar, count: m.oneIn(8) ? 120 : 1)
            default: scalars.insert(scalar, at: m.below(scalars.count + 1))
            }
        }
        if scalars.count > 400 { scalars = Array(scalars.prefix(m.below(400))) }
        text = String(String.UnicodeScalarView(scalars))
    }
}

/// libxml2's reading of a document (through Foundation's XMLParser): the elements, their attributes, the text.
final class ParsedElements: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var attributes: [[String: String]] = []
    var text = ""
    var ok = false
    var error = ""

    init(_ data: Data) {
        super.init()
        let parser = XMLParser(data: data)
        parser.delegate = self
        ok = parser.parse()
        error = parser.parserError.map { "\($0)" } ?? ""
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        elements.append(name)
        self.attributes.append(attributes)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
}
