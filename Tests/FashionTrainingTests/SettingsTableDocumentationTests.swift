import Foundation
import Testing
import FashionTraining

/// docs/training.md holds the table of settings as `TrainingSetting.markdownTable` makes it, between two markers:
/// a setting added, renamed or re-described without the page (`fashionlab settings --markdown`) fails here.
@Suite struct SettingsTableDocumentationTests {
    static let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/training.md").standardizedFileURL.path

    @Test func theTrainingPageHoldsTheTableOfSettings() throws {
        let text = try String(contentsOfFile: Self.page, encoding: .utf8)
        let begin = "<!-- settings: begin (fashionlab settings --markdown) -->\n", end = "<!-- settings: end -->"
        let start = try #require(text.range(of: begin), "the begin marker")
        let stop = try #require(text.range(of: end, range: start.upperBound..<text.endIndex), "the end marker")
        #expect(String(text[start.upperBound..<stop.lowerBound]) == TrainingSetting.markdownTable)
    }

    @Test func everySettingIsNamedOnceAndStoredUnderAKey() {
        let flags = TrainingSetting.all.map(\.flag)
        #expect(Set(flags).count == flags.count)
        for setting in TrainingSetting.all {
            #expect(TrainingSetting.named(setting.flag)?.key == setting.key)
            #expect(!setting.help.isEmpty && setting.help.hasSuffix("."), "--\(setting.flag)")
        }
    }
}
