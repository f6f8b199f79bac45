import Foundation
import Testing
import FashionTestSupport

/// The dashboard as a person uses it, in headless Chromium (Debian's `chromium` and `chromium-driver`): a run page
/// open while `fashionlab train` runs in another process gains points on its curve without a reload, and a JPEG
/// chosen on the predict page comes back with its class on the page.
@Suite(.enabled(if: dataAvailable, "needs Fashion-MNIST"),
       .enabled(if: WebDriver.available, "needs chromium and chromedriver (apt-get install chromium chromium-driver)"))
struct BrowserTests {
    @Test func theCurveGrowsWhileTrainingAndAPhotoIsClassified() throws {
        let root = TestFiles.newDirectory("serve-browser")
        let server = try ServeProcess(runs: root)
        defer { server.stop() }

        // A training long enough to watch (stopped with Ctrl-C's signal once seen), logging every 50 steps.
        let training = Process()
        training.executableURL = URL(fileURLWithPath: fashionlabBinary)
        training.arguments = ["train", "--subset", "20000", "--hidden", "64", "--epochs", "200", "--log-every", "50", "--quiet",
                              "--data", dataDirectory, "--out", root + "/live"]
        training.standardOutput = FileHandle.nullDevice
        training.standardError = FileHandle.nullDevice
        try training.run()
        defer { if training.isRunning { kill(training.processIdentifier, SIGKILL) } }
        let started = Date()
        while !FileManager.default.fileExists(atPath: root + "/live/metrics.json"), Date().timeIntervalSince(started) < 60 { usleep(100_000) }

        let browser = try WebDriver()
        try browser.open(server.address + "runs/live")
        // Training dots: one per epoch on the loss chart and one on the accuracy chart, each titled "live, epoch N: …".
        let countDots = "return [...document.querySelectorAll('#curves svg circle > title')].filter(t => /, epoch \\d+:/.test(t.textContent)).length;"
        let first = try browser.wait(60, countDots) { ($0 as? Int ?? 0) > 0 } as? Int ?? 0
        let status = try browser.run("return document.querySelector('#status').textContent;") as? String
        let seen = Date()
        let later = try browser.wait(60, countDots) { ($0 as? Int ?? 0) > first } as? Int ?? 0
        print("browser: the run page showed \(first) training dots (status '\(status ?? "")'), then \(later) \(String(format: "%.1f", Date().timeIntervalSince(seen))) s later, without a reload")
        #expect(first > 0)
        #expect(status == "running")
        #expect(later > first, "the curve gained no point while the run trained")
        // The --log-every line (a polyline drawn from history.steps) is there too.
        let stepLine = try browser.run("return document.querySelectorAll('#curves svg polyline').length;") as? Int ?? 0
        #expect(stepLine > 0)

        kill(training.processIdentifier, SIGINT)
        training.waitUntilExit()

        // The predict page: choose the JPEG as a person picking a file does, read the class off the page.
        let photo = fixtures + "/trouser.jpg"
        try browser.open(server.address + "predict?run=live")
        _ = try browser.wait(20, "return document.querySelectorAll('#model option').length;") { ($0 as? Int ?? 0) > 0 }
        try browser.chooseFile("#file", photo)
        let shown = try browser.wait(30, "const e = document.querySelector('#top li .class-name'); return e ? e.textContent : '';") {
            !(($0 as? String) ?? "").isEmpty
        } as? String ?? ""
        let input = try browser.run("return document.querySelector('#input').src.slice(0, 22);") as? String
        let api = RawHTTP.request(port: server.port, "POST", "/api/predict?run=live",
                                  body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: photo))))
        let expected = ((api?.json as? [String: Any])?["top"] as? [[String: Any]])?.first?["name"] as? String
        print("browser: the predict page showed '\(shown)' for trouser.jpg (the API says '\(expected ?? "?")')")
        #expect(!shown.isEmpty)
        #expect(shown == expected)
        #expect(input == "data:image/png;base64,")
    }
}
