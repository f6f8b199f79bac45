import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import FashionCharts
import FashionCore
import FashionEngine
import FashionImaging
import FashionTraining
import FashionTestSupport

/// Parses `text` as XML; returns the element names seen, or nil when it is not well-formed.
func xmlElements(_ text: String) -> [String]? {
    final class Collector: NSObject, XMLParserDelegate {
        var names: [String] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            names.append(name)
        }
    }
    let parser = XMLParser(data: Data(text.utf8))
    let collector = Collector()
    parser.delegate = collector
    return parser.parse() ? collector.names : nil
}

func history(_ losses: [Double], accuracies: [Double], diverged: Bool = false) -> TrainingHistory {
    var history = TrainingHistory(config: TrainingConfig())
    history.epochs = zip(losses, accuracies).enumerated().map { index, pair in
        EpochMetrics(epoch: index + 1, learningRate: 0.01, trainLoss: pair.0, trainAccuracy: pair.1,
                     validationLoss: pair.0 * 1.1, validationAccuracy: pair.1 - 0.02, trainSeconds: 1, evaluationSeconds: 0.5)
    }
    history.diverged = diverged
    return history
}

@Suite struct ChartTests {
    let good = RunForReport(label: "adam <0.001>", history: history([0.5, 0.4, 0.35], accuracies: [0.85, 0.87, 0.88]),
                            model: Sequential.mlp(inputs: 20, hidden: [8], classes: 10, seed: 1))
    let bad = RunForReport(label: "sgd & huge lr", history: history([2.3, .nan], accuracies: [0.1, 0.1], diverged: true),
                           model: Sequential.mlp(inputs: 20, hidden: [8], classes: 10, seed: 2))

    @Test func curvesAreWellFormedSVGWithBothSeries() throws {
        let svg = RunCharts.curves([good], title: "Adam & friends")
        let elements = try #require(xmlElements(svg))
        #expect(elements.first == "svg")
        #expect(elements.filter { $0 == "circle" }.count >= 6)      // training dots, in both panels
        #expect(elements.filter { $0 == "polyline" }.count == 2)    // validation lines
        #expect(svg.contains("#1f77b4") && svg.contains("#d62728"))  // blue dots, red line as in the notebook
        #expect(svg.contains("Adam &amp; friends"))
        #expect(svg.contains(">90%<") || svg.contains(">88%<"))      // a percent axis
    }

    @Test func divergedRunsAreGapsWithAMarkerAndANote() throws {
        let svg = RunCharts.curves([good, bad], title: "compared")
        #expect(xmlElements(svg) != nil)
        #expect(!svg.lowercased().contains("nan\""), "no NaN coordinates")
        #expect(!svg.contains("inf\""))
        #expect(svg.contains("sgd &amp; huge lr: diverged in epoch 2"))
    }

    @Test func histogramsShareBinsAndReportHiddenValues() throws {
        var chart = HistogramChart(title: "w", panels: [("0.weight", [TensorValues(run: "a", values: [0, 0.5, 1, .infinity]),
                                                                      TensorValues(run: "b", values: [-2, 2, 0, 0])])])
        chart.bins = 10
        let svg = chart.svg()
        #expect(xmlElements(svg) != nil)
        #expect(svg.contains("range -2 … 2"))
        #expect(svg.contains("1 non-finite values not shown"))
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 2)
    }

    @Test func runsWhoseRangesDifferTooMuchGetAPanelEachWithTheSharedRangeMarked() throws {
        let tame = TensorValues(run: "lr 0.001", values: (0..<100).map { Float($0 - 50) / 500 })  // -0.1 … 0.098
        let wild = TensorValues(run: "lr 0.1", values: (0..<100).map { Float($0 - 50) / 5 })      // -10 … 9.8
        let chart = HistogramChart(title: "w", panels: [("0.weight", [tame, wild]), ("0.bias", [tame, wild])])
        #expect(chart.drawsRunsSeparately)
        let svg = chart.svg()
        #expect(xmlElements(svg) != nil)
        // A panel per tensor and run, each on its own range, and under each the strip of all runs' range.
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 4)
        #expect(svg.contains(">0.weight  (100 values)<") && svg.contains(">0.bias  (100 values)<") && svg.contains(">lr 0.001<"))
        #expect(svg.contains("range -0.1 … 0.098") && svg.contains("range -10 … 9.8"))
        #expect(svg.components(separatedBy: "in all runs: -10 … 9.8").count - 1 == 4)

        let similar = HistogramChart(title: "w", panels: [("0.weight", [tame, TensorValues(run: "b", values: tame.values.map { $0 * 2 })])])
        #expect(!similar.drawsRunsSeparately)
        #expect(!similar.svg().contains("in all runs"))
    }

    @Test func confusionMatrixNamesEveryClass() throws {
        let counts = (0..<10).map { row in (0..<10).map { $0 == row ? 900 : 11 } }
        let svg = RunCharts.confusion(counts, title: "cm")
        let elements = try #require(xmlElements(svg))
        #expect(elements.filter { $0 == "rect" }.count == 101)
        for name in ["T-shirt/top", "Ankle boot", "Sneaker"] { #expect(svg.components(separatedBy: ">\(name)<").count - 1 == 2) }
    }

    @Test func reportIsOneSelfContainedPage() throws {
        let html = RunCharts.report([good, bad], title: "Report <test>").html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<link"))
        #expect(html.contains("Report &lt;test&gt;"))
        #expect(html.contains("diverged"))
        for id in ["summary", "curves", "weights", "configuration", "environment"] { #expect(html.contains("id=\"\(id)\"")) }
        // Every inline SVG is well-formed on its own.
        var rest = html[...]
        var count = 0
        while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            #expect(xmlElements(String(rest[start.lowerBound..<end.upperBound])) != nil)
            rest = rest[end.upperBound...]
            count += 1
        }
        #expect(count == 2)
    }

    @Test func niceAxisTicks() {
        let chart = CurvesChart(title: "t", runs: [RunCurves(label: "r", trainLoss: [0.31, 0.29], validationLoss: [0.4, 0.38],
                                                             trainAccuracy: [0.8, 0.9], validationAccuracy: [0.78, 0.88])])
        let svg = chart.svg()
        for label in [">0.1<", ">0.2<", ">0.3<", ">0.4<", ">80%<", ">90%<"] {
            #expect(svg.contains(label), "\(label)")
        }
    }
}

/// Renders a report in headless Chromium, as a person would see it.
@Suite(.enabled(if: ChromiumCheck.path != nil, "Chromium is not installed (apt-get install chromium)"))
struct BrowserTests {
    @Test func reportRendersWithChartsVisible() throws {
        let directory = TestFiles.newPath("browser")
        let good = RunForReport(label: "run", history: history([0.5, 0.4, 0.35], accuracies: [0.85, 0.87, 0.88]),
                                model: Sequential.mlp(inputs: 20, hidden: [8], classes: 10, seed: 1))
        try AtomicFile.write(text: RunCharts.report([good], title: "Browser check").html(), to: directory + "/report.html")
        let screenshot = try ChromiumCheck.screenshot(directory + "/report.html", width: 1000, height: 1600)
        let image = try PNG.decode(screenshot, name: "screenshot.png")
        #expect(image.width == 1000 && image.height == 1600)
        // Not blank: the header's dark blue, the notebook's blue dots and red validation line are on screen.
        var header = 0, blue = 0, red = 0
        for i in stride(from: 0, to: image.width * image.height, by: 1) {
            let p = i * image.channels
            let (r, g, b) = (Int(image.pixels[p]), Int(image.pixels[p + 1]), Int(image.pixels[p + 2]))
            if abs(r - 0x1f) < 12, abs(g - 0x3a) < 12, abs(b - 0x5f) < 12 { header += 1 }
            if abs(r - 0x1f) < 30, abs(g - 0x77) < 30, abs(b - 0xb4) < 30 { blue += 1 }
            if abs(r - 0xd6) < 30, abs(g - 0x27) < 40, abs(b - 0x28) < 40 { red += 1 }
        }
        #expect(header > 10_000, "header drawn")
        #expect(blue > 100, "training dots drawn")
        #expect(red > 100, "validation line drawn")
    }
}

enum ChromiumCheck {
    static let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// A PNG screenshot of `file` at the given window size.
    static func screenshot(_ file: String, width: Int, height: Int) throws -> [UInt8] {
        let output = file + ".png"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--user-data-dir=" + TestFiles.newPath("chromium-profile"),
                             "--screenshot=" + output, "--window-size=\(width),\(height)", "file://" + file]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard let data = FileManager.default.contents(atPath: output) else {
            throw Failure(description: "chromium wrote no screenshot (exit \(process.terminationStatus))")
        }
        return [UInt8](data)
    }
}
