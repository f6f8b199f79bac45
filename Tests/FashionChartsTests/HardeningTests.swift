import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import FashionCharts
import FashionTestSupport

final class ResultBox<T>: @unchecked Sendable { var value: T? }

/// Runs `body` on its own thread and waits at most `seconds`: a chart that never finishes fails the
/// test instead of hanging the suite. Returns the result and the time it took.
func finishing<T: Sendable>(within seconds: Double, _ body: @escaping @Sendable () -> T) -> (value: T?, seconds: Double) {
    let box = ResultBox<T>(), done = DispatchSemaphore(value: 0)
    let start = Date()
    Thread { box.value = body(); done.signal() }.start()
    guard done.wait(timeout: .now() + seconds) == .success else { return (nil, seconds) }
    return (box.value, Date().timeIntervalSince(start))
}

@Suite struct ExtremeValueChartTests {
    static let lossSeries: [[Double]] = [
        [1e38, 1e38, 1e38], [1e38, 2e38], [1e-38, 1e-38], [1e-38, 3e-38, 2e-38], [.infinity, -.infinity, .nan],
        [.nan, .nan], [2.5, 2.5, 2.5], [1e308, -1e308], [.greatestFiniteMagnitude, 1], [Double.leastNonzeroMagnitude, 1, 1e300], [-1e38, 1e38],
    ]

    @Test(arguments: lossSeries)
    func curvesOfExtremeLossesFinishAndAreWellFormed(_ losses: [Double]) throws {
        let accuracies = losses.map { $0.isFinite ? min(max($0, -1e38), 1e38) : $0 }
        let run = RunCurves(label: "extreme", trainLoss: losses, validationLoss: losses.reversed(),
                            trainAccuracy: accuracies, validationAccuracy: [0.5] + accuracies.dropFirst())
        let (svg, seconds) = finishing(within: 20) { CurvesChart(title: "loss \(losses)", runs: [run]).svg() }
        let markup = try #require(svg, "the chart of \(losses) did not finish in 20 s")
        #expect(seconds < 20)
        #expect(xmlElements(markup) != nil, "not well-formed for \(losses)")
        #expect(!markup.contains("nan\"") && !markup.contains("inf\""))
        #expect(markup.count < 200_000, "\(markup.count) characters for \(losses): the ticks are not bounded")
    }

    static let histogramValues: [[Float]] = [
        [.greatestFiniteMagnitude, -.greatestFiniteMagnitude], [1e38, 1e38], [1e-38, 1e-38], [1e-38, 2e-38],
        [.nan, .infinity], [3, 3, 3], [], [-.greatestFiniteMagnitude, 0, Float.leastNonzeroMagnitude],
    ]

    @Test(arguments: histogramValues)
    func histogramsOfExtremeValuesFinishAndAreWellFormed(_ values: [Float]) throws {
        let chart = HistogramChart(title: "weights", panels: [("0.weight", [TensorValues(run: "a", values: values),
                                                                            TensorValues(run: "b", values: values.reversed())])])
        let (svg, seconds) = finishing(within: 20) { chart.svg() }
        let markup = try #require(svg, "the histogram of \(values) did not finish in 20 s")
        #expect(seconds < 20)
        #expect(xmlElements(markup) != nil, "not well-formed for \(values)")
        #expect(!markup.contains("nan\"") && !markup.contains("inf\""))
    }
}

@Suite struct MarkupEscapingTests {
    /// `<` followed by a combining acute accent is one `Character` that is not `"<"`.
    static let hostile = "<\u{301}script>alert(1)</\u{301}script> \"\u{301}onload=x '\u{301} &\u{301}amp;"

    @Test func svgTextIsEscapedByScalar() throws {
        let run = RunCurves(label: Self.hostile, trainLoss: [1, 0.5], validationLoss: [1.1, 0.6], trainAccuracy: [0.5, 0.7], validationAccuracy: [0.4, 0.6])
        let svg = CurvesChart(title: Self.hostile, runs: [run]).svg()
        #expect(xmlElements(svg) != nil)
        for raw in ["<\u{301}", "\"\u{301}", "'\u{301}", "&\u{301}"] {
            #expect(!svg.unicodeScalarsContain(raw), "scalar sequence \(raw.unicodeScalars.map(\.value)) passed through")
        }
        #expect(svg.unicodeScalarsContain("&lt;\u{301}script&gt;"))
    }

    @Test func controlCharactersInvalidInXMLAreReplaced() throws {
        let title = "a\u{0}b\u{8}c\u{B}d\u{C}e\u{1F}f\u{FFFE}g\u{FFFF}h\ti\nj"
        let run = RunCurves(label: title, trainLoss: [1], validationLoss: [1], trainAccuracy: [0.5], validationAccuracy: [0.5])
        let svg = CurvesChart(title: title, runs: [run]).svg()
        #expect(xmlElements(svg) != nil)
        for bad: UInt32 in [0, 8, 0xB, 0xC, 0x1F, 0xFFFE, 0xFFFF] {
            #expect(!svg.unicodeScalars.contains { $0.value == bad }, "U+\(String(bad, radix: 16)) is in the SVG")
        }
        #expect(SVG.escape("x\u{0}y") == "x\u{FFFD}y")
        #expect(SVG.escape("<&>\"'") == "&lt;&amp;&gt;&quot;&#39;")
    }

    @Test func reportPagesEscapeByScalarAndCarryAContentSecurityPolicy() throws {
        var page = ReportPage(title: Self.hostile, subtitle: Self.hostile, language: "en\"\u{301} onload=\"x")
        var section = ReportSection(id: "s\"\u{301}x", heading: Self.hostile)
        section.paragraphs = [.text(Self.hostile), .finding(Self.hostile), .warning(Self.hostile)]
        section.table = ([Self.hostile], [[Self.hostile]])
        section.figures = [.png([0x89, 0x50], alt: Self.hostile, caption: Self.hostile)]
        page.sections = [section, ReportSection(id: "b", heading: "b"), ReportSection(id: "c", heading: "c")]
        let html = page.html()
        for raw in ["<\u{301}", "\"\u{301}", "'\u{301}"] {
            #expect(!html.unicodeScalarsContain(raw), "scalar sequence \(raw.unicodeScalars.map(\.value)) passed through")
        }
        #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"))
        #expect(!html.contains("<script"))
    }
}

extension String {
    /// Whether the scalars of `needle` occur in order, adjacent, in this string's scalars (not graphemes).
    func unicodeScalarsContain(_ needle: String) -> Bool {
        let hay = Array(unicodeScalars), pin = Array(needle.unicodeScalars)
        guard !pin.isEmpty, hay.count >= pin.count else { return pin.isEmpty }
        for start in 0...(hay.count - pin.count) where hay[start] == pin[0] {
            if Array(hay[start..<(start + pin.count)]) == pin { return true }
        }
        return false
    }
}
