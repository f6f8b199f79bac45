import Foundation
import Testing
import FashionCore
import FashionTestSupport

@Suite struct PathNameTests {
    @Test(arguments: ["scaling", "batch-size", "hidden_512", "lr 0.001", "học-tập", "a.b", "…", String(repeating: "x", count: 100)])
    func acceptsOrdinaryNames(_ name: String) throws {
        try PathName.validate(name, what: "study name")
    }

    @Test(arguments: [
        ("", "empty"), (".", "directory itself"), ("..", "directory itself"), ("a/b", "'/'"), ("../etc", "'/'"),
        ("a\\b", "'\\'"), ("-rf", "starts with '-'"), ("._", "starts with '.'"), (".hidden", "a hidden name"), ("a\u{0}b", "U+0000"), ("a\nb", "U+000A"), ("a\u{7F}", "U+007F"),
        ("a\u{85}", "U+0085"), ("a\u{9F}", "U+009F"), ("a\u{2028}b", "U+2028"), ("a\u{2029}b", "U+2029"),
        (String(repeating: "x", count: 101), "at most 100"), (String(repeating: "é", count: 90) + "/", "'/'"),
        (String(repeating: "\u{1F600}", count: 70), "at most 255"),
        // A separator hidden in a grapheme: "/" followed by a combining mark is one Character but two scalars.
        ("a/\u{301}b", "'/'"), (".\u{301}.", "a hidden name"), ("a.\u{301}.", nil),
    ] as [(String, String?)])
    func refusesNamesThatAreNotOnePathComponent(_ name: String, _ expected: String?) throws {
        guard let expected else {
            try PathName.validate(name, what: "study name")  // "a.́." is an ordinary (odd) name
            return
        }
        let error = #expect(throws: InvalidPathName.self) { try PathName.validate(name, what: "study name") }
        #expect(error?.what == "study name")
        let text = error?.description ?? ""
        #expect(text.hasPrefix("study name '"), "\(text)")
        #expect(text.contains(expected), "\(text) should mention \(expected)")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 }, "the message shows control characters as code points")
    }
}

@Suite struct DirectoryLockSymlinkTests {
    @Test func aPlantedSymlinkIsRefusedNotFollowed() throws {
        let directory = TestFiles.newDirectory("lock")
        let victim = TestFiles.newPath("victim", extension: "txt")
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: directory + "/.fashionlab.lock", withDestinationPath: victim)
        let error = #expect(throws: FileWriteError.self) { _ = try DirectoryLock(directory: directory, wait: false) }
        #expect(error?.description.contains("symbolic link") == true, "\(error?.description ?? "")")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
    }

    @Test func aDanglingSymlinkCreatesNothingAtItsTarget() throws {
        let directory = TestFiles.newDirectory("lock")
        let target = TestFiles.newPath("would-be-created")
        try FileManager.default.createSymbolicLink(atPath: directory + "/.fashionlab.lock", withDestinationPath: target)
        #expect(throws: FileWriteError.self) { _ = try DirectoryLock(directory: directory, wait: true) }
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func anOrdinaryLockStillWorks() throws {
        let directory = TestFiles.newDirectory("lock")
        let lock = try DirectoryLock(directory: directory, wait: false)
        #expect(throws: DirectoryBusy.self) { _ = try DirectoryLock(directory: directory, wait: false) }
        withExtendedLifetime(lock) {}
    }
}
