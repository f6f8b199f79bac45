import Foundation
import FashionTestSupport

/// A headless Chromium driven over WebDriver (W3C, JSON over HTTP) through Debian's `chromedriver`: just the
/// commands a test needs to act as a person would (open a page, run a line of script to read it, choose a file).
final class WebDriver {
    static let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let chromium = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var available: Bool { chromedriver != nil && chromium != nil }

    private let driver = Process()
    private let port: UInt16
    private var session = ""

    init() throws {
        guard let chromedriver = Self.chromedriver, let chromium = Self.chromium else { throw ServeTestError("chromedriver or chromium is missing") }
        port = Self.freePort()
        driver.executableURL = URL(fileURLWithPath: chromedriver)
        driver.arguments = ["--port=\(port)"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, RawHTTP.get(port, "/status")?.status != 200 { usleep(100_000) }
        let options: [String: Any] = ["binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                                  "--window-size=1200,1000", "--user-data-dir=" + TestFiles.newDirectory("chromium")]]
        let created = try command("POST", "/session", ["capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": options]]])
        guard let id = (created as? [String: Any])?["sessionId"] as? String else { throw ServeTestError("no WebDriver session: \(String(describing: created))") }
        session = id
    }

    deinit {
        if !session.isEmpty { _ = try? command("DELETE", "/session/\(session)", nil) }
        // chromedriver does not always end on SIGTERM: the test must not wait for it.
        if driver.isRunning { kill(driver.processIdentifier, SIGKILL); driver.waitUntilExit() }
    }

    func open(_ url: String) throws { _ = try command("POST", "/session/\(session)/url", ["url": url]) }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    func run(_ script: String) throws -> Any? {
        try command("POST", "/session/\(session)/execute/sync", ["script": script, "args": []])
    }

    /// Chooses `path` in the file input `selector`, as a person picking a photo does (the page's `change` handler runs).
    func chooseFile(_ selector: String, _ path: String) throws {
        let found = try command("POST", "/session/\(session)/element", ["using": "css selector", "value": selector])
        guard let element = (found as? [String: Any])?.values.first as? String else { throw ServeTestError("no element \(selector)") }
        _ = try command("POST", "/session/\(session)/element/\(element)/value", ["text": path])
    }

    /// Polls `script` until it returns something `accept`s, or `timeout` passes (then the last value).
    func wait(_ timeout: Double, _ script: String, until accept: (Any?) -> Bool) throws -> Any? {
        let deadline = Date().addingTimeInterval(timeout)
        var value = try run(script)
        while !accept(value), Date() < deadline {
            usleep(200_000)
            value = try run(script)
        }
        return value
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]?) throws -> Any? {
        let bytes = try body.map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) }
        guard let response = RawHTTP.request(port: port, method, path, body: bytes, headers: ["Content-Type: application/json"], timeout: 60) else {
            throw ServeTestError("chromedriver did not answer \(method) \(path)")
        }
        let value = (response.json as? [String: Any])?["value"]
        guard response.status == 200 else { throw ServeTestError("WebDriver \(method) \(path): \(response.status) \(response.text.prefix(300))") }
        return value
    }

    static func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1 }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
