import Foundation
import Testing

/// The repository's root, from this file's place in it.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path

/// Every page of documentation: the README, `docs/` and the DocC articles.
func documentationPages() throws -> [String] {
    let manager = FileManager.default
    var pages = ["README.md"] + (try manager.contentsOfDirectory(atPath: repositoryRoot + "/docs")).filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
    for target in try manager.contentsOfDirectory(atPath: repositoryRoot + "/Sources") {
        let catalogs = (try? manager.contentsOfDirectory(atPath: "\(repositoryRoot)/Sources/\(target)"))?.filter { $0.hasSuffix(".docc") } ?? []
        for catalog in catalogs {
            let folder = "Sources/\(target)/\(catalog)"
            pages += try manager.contentsOfDirectory(atPath: repositoryRoot + "/" + folder).filter { $0.hasSuffix(".md") }.map { folder + "/" + $0 }
        }
    }
    return pages.sorted()
}

/// A page's Swift code block, with the marker on the line before it (`<!-- snippet: PATH -->`, `<!-- client-manifest: url -->`).
struct CodeBlock {
    let page: String
    let line: Int
    let marker: String?
    let code: String

    static func all(in page: String) throws -> [CodeBlock] {
        let lines = try String(contentsOfFile: repositoryRoot + "/" + page, encoding: .utf8).components(separatedBy: "\n")
        var blocks: [CodeBlock] = []
        var index = 0
        while index < lines.count {
            guard lines[index] == "```swift" else { index += 1; continue }
            let start = index
            var end = index + 1
            while end < lines.count, lines[end] != "```" { end += 1 }
            let before = start > 0 ? lines[start - 1] : ""
            let marker = before.hasPrefix("<!-- ") && before.hasSuffix(" -->") ? String(before.dropFirst(5).dropLast(4)) : nil
            blocks.append(CodeBlock(page: page, line: start + 1, marker: marker, code: lines[(start + 1)..<min(end, lines.count)].joined(separator: "\n")))
            index = end + 1
        }
        return blocks
    }
}

/// A snippet file's code as the documentation shows it: without the lines from `// snippet.hide` to `// snippet.show`
/// (SwiftPM's snippet markers), and without blank lines at either end.
func shownCode(of path: String) throws -> String {
    var shown: [String] = [], hidden = false
    for line in try String(contentsOfFile: repositoryRoot + "/" + path, encoding: .utf8).components(separatedBy: "\n") {
        switch line.trimmingCharacters(in: .whitespaces) {
        case "// snippet.hide": hidden = true
        case "// snippet.show": hidden = false
        default: if !hidden { shown.append(line) }
        }
    }
    while shown.first?.isEmpty == true { shown.removeFirst() }
    while shown.last?.isEmpty == true { shown.removeLast() }
    return shown.joined(separator: "\n")
}

/// The documentation's Swift code cannot drift from code that compiles: every block quotes a file that the package
/// builds (`Examples/snippets`, the `DocumentationSnippets` target this test target depends on, or an example), or
/// is a Package.swift fragment that `ClientPackageTests` builds a package from.
@Suite struct DocumentationSnippetsTests {
    @Test func everySwiftBlockQuotesCompiledCode() throws {
        var quoted: Set<String> = []
        for page in try documentationPages() {
            for block in try CodeBlock.all(in: page) {
                let place = "\(page):\(block.line)"
                guard let marker = block.marker else {
                    Issue.record("\(place): a Swift block without a <!-- snippet: PATH --> or <!-- client-manifest: … --> marker")
                    continue
                }
                if marker.hasPrefix("snippet: ") {
                    let path = String(marker.dropFirst("snippet: ".count))
                    #expect(FileManager.default.fileExists(atPath: repositoryRoot + "/" + path), "\(place): no file \(path)")
                    #expect(block.code == (try? shownCode(of: path)), "\(place) differs from \(path)")
                    quoted.insert(path)
                } else {
                    #expect(["client-manifest: url", "client-manifest: path"].contains(marker), "\(place): unknown marker '\(marker)'")
                }
            }
        }
        let snippets = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/Examples/snippets")
            .filter { $0.hasSuffix(".swift") && $0 != "main.swift" }.map { "Examples/snippets/" + $0 }
        for snippet in snippets { #expect(quoted.contains(snippet), "\(snippet) is quoted by no page") }
    }

    @Test func theManifestFragmentsAreOneText() throws {
        for kind in ["client-manifest: url", "client-manifest: path"] {
            let fragments = try documentationPages().flatMap { try CodeBlock.all(in: $0) }.filter { $0.marker == kind }
            #expect(!fragments.isEmpty, "\(kind)")
            #expect(Set(fragments.map(\.code)).count == 1, "\(kind): the pages give different fragments")
        }
    }
}
