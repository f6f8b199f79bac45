import FashionTestSupport
import Foundation
import Testing

/// The documentation's instructions for depending on FashionLab, followed as a user would: a package of one's own made
/// from the Package.swift fragments the pages give (`<!-- client-manifest: … -->`), against a copy of this checkout,
/// with the first-run snippet as its program. By URL it is built; by path (the name given, as the page says) its
/// dependency graph loads, and without the name it fails as the page warns.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "needs git"))
struct ClientPackageTests {
    /// The code of the first block with `marker`.
    func fragment(_ marker: String) throws -> String {
        try #require(try documentationPages().flatMap { try CodeBlock.all(in: $0) }.first { $0.marker == marker }).code
    }

    /// This checkout's files (tracked and new, not ignored) copied into `DIRECTORY/fashion-lab`, committed on `main`.
    func copyOfCheckout(in directory: String) throws -> String {
        let copy = directory + "/fashion-lab"
        let listed = try runTool("/usr/bin/git", ["-C", repositoryRoot, "ls-files", "-co", "--exclude-standard", "-z"], timeout: 120)
        #expect(listed.status == 0, "\(listed.error)")
        for file in listed.output.split(separator: "\0").map(String.init) where FileManager.default.fileExists(atPath: repositoryRoot + "/" + file) {
            let target = URL(fileURLWithPath: copy + "/" + file)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: repositoryRoot + "/" + file, toPath: target.path)
        }
        for arguments in [["init", "-q", "-b", "main"], ["add", "-A"],
                          ["-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "-m", "copy"]] {
            let git = try runTool("/usr/bin/git", ["-C", copy] + arguments, timeout: 300)
            #expect(git.status == 0, "git \(arguments): \(git.error)")
        }
        return copy
    }

    /// A package `my-model` in `DIRECTORY/NAME` with `fragment` as its dependencies and targets, and the first run as
    /// its program.
    func client(_ name: String, in directory: String, fragment: String) throws -> String {
        let folder = directory + "/" + name
        try FileManager.default.createDirectory(atPath: folder + "/Sources/my-model", withIntermediateDirectories: true)
        let manifest = "// swift-tools-version: 6.1\nimport PackageDescription\n\nlet package = Package(\n    name: \"my-model\",\n    platforms: [.macOS(.v14)],\n\(fragment)\n)\n"
        try manifest.write(toFile: folder + "/Package.swift", atomically: true, encoding: .utf8)
        try shownCode(of: "Examples/snippets/FirstRun.swift").write(toFile: folder + "/Sources/my-model/main.swift", atomically: true, encoding: .utf8)
        return folder
    }

    func swift(_ arguments: [String], in folder: String) throws -> CommandResult {
        try runTool("/usr/bin/env", ["swift"] + arguments + ["--package-path", folder], timeout: 1800)
    }

    @Test func aPackageOfOnesOwnBuildsAgainstFashionLabByURLAndByPath() throws {
        let directory = TestFiles.newDirectory("client-package")
        let copy = try copyOfCheckout(in: directory)
        let byURL = try fragment("client-manifest: url")
        #expect(byURL.contains("https://github.com/OWNER/FashionLab"))
        // SwiftPM names a URL dependency after the URL's last component, as it would `…/OWNER/FashionLab`.
        let repository = directory + "/FashionLab"
        try FileManager.default.createSymbolicLink(atPath: repository, withDestinationPath: copy)
        let urlClient = try client("by-url", in: directory,
                                   fragment: byURL.replacingOccurrences(of: "https://github.com/OWNER/FashionLab", with: "file://" + repository))
        let built = try swift(["build", "--product", "my-model"], in: urlClient)
        #expect(built.status == 0, "\(built.output.suffix(3000))\n\(built.error.suffix(3000))")

        // By path, in a folder not named FashionLab: with the name the page gives, the graph loads; without it,
        // SwiftPM refuses `package: "FashionLab"`, as the page warns.
        let dependencies = try #require(byURL.components(separatedBy: "\n").first { $0.hasPrefix("dependencies: ") })
        let byPath = try fragment("client-manifest: path").replacingOccurrences(of: "../fashion-lab", with: copy)
        let named = try client("by-path", in: directory, fragment: byURL.replacingOccurrences(of: dependencies, with: byPath))
        let loaded = try swift(["package", "show-dependencies"], in: named)
        #expect(loaded.status == 0 && loaded.output.contains("fashion"), "\(loaded.output)\n\(loaded.error)")
        let unnamed = try client("by-path-unnamed", in: directory, fragment: byURL.replacingOccurrences(
            of: dependencies, with: "dependencies: [.package(path: \"\(copy)\")],"))
        let refused = try swift(["package", "show-dependencies"], in: unnamed)
        #expect(refused.status != 0 && (refused.output + refused.error).contains("FashionLab"), "\(refused.output)\n\(refused.error)")
    }
}
