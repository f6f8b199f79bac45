import Foundation
import Testing
import FashionTestSupport

/// A runs folder as `train` and `lab` leave it, with traps in it (a symbolic link out of the folder, a broken
/// metrics file, a report that is a link to /etc/passwd), served by `fashionlab serve` on a loopback port.
final class ServedFolder: @unchecked Sendable {
    let root: String
    let server: ServeProcess
    /// Every path under the folder with its type, size and modification time, before any request.
    let before: [String: String]

    init() throws {
        root = TestFiles.newDirectory("serve")
        try quickRun(in: root, name: "alpha", epochs: 2)
        try quickRun(in: root, name: "lab/runs/beta")
        try quickRun(in: root, name: "my run")
        try Data("<!DOCTYPE html><title>lab</title><p>the lab report".utf8).write(to: URL(fileURLWithPath: root + "/lab/index.html"))
        try FileManager.default.createDirectory(atPath: root + "/broken", withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: root + "/broken/metrics.json"))
        // Links out of the folder: to a run elsewhere, to /etc, and a report that is /etc/passwd.
        let outside = TestFiles.newDirectory("outside")
        try quickRun(in: outside, name: "secret")
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: outside + "/secret")
        try FileManager.default.createSymbolicLink(atPath: root + "/etc", withDestinationPath: "/etc")
        try FileManager.default.createDirectory(atPath: root + "/trap", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/trap/report.html", withDestinationPath: "/etc/passwd")
        before = Self.listing(root)
        server = try ServeProcess(runs: root, extra: ["--request-time", "2"])
    }

    /// lstat of everything under `root` (links not followed).
    static func listing(_ root: String) -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let path = enumerator?.nextObject() as? String {
            var info = stat()
            lstat(root + "/" + path, &info)
            result[path] = "\(info.st_mode) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
        return result
    }

    static let shared: ServedFolder? = dataAvailable ? try? ServedFolder() : nil
}

@Suite(.serialized, .enabled(if: dataAvailable, "needs Fashion-MNIST in /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)"))
struct ServerTests {
    let folder = ServedFolder.shared!
    var port: UInt16 { folder.server.port }

    @Test func everyPageAndAsset() throws {
        for (target, type, needle) in [
            ("/", "text/html", "id=\"runs\""), ("/?lang=vi", "text/html", "Các lần chạy"),
            ("/runs/alpha", "text/html", "alpha"), ("/runs/lab/runs/beta?lang=vi", "text/html", "lab/runs/beta"),
            ("/compare?run=alpha&run=lab/runs/beta", "text/html", "lab/runs/beta"), ("/predict", "text/html", "id=\"canvas\""),
            ("/predict?run=alpha", "text/html", "data-subject=\"alpha\""),
            ("/assets/app.css", "text/css", "--accent"), ("/assets/app.js", "text/javascript", "EventSource"),
            ("/files/lab/index.html", "text/html", "the lab report"), ("/files/alpha/report.html", "text/html", "<svg"),
            ("/files/alpha/metrics.csv", "text/csv", "epoch,"),
        ] {
            let response = try #require(RawHTTP.get(port, target), "\(target)")
            #expect(response.status == 200, "\(target): \(response.text.prefix(200))")
            #expect(response.header("content-type")?.hasPrefix(type) == true, "\(target)")
            #expect(response.text.contains(needle), "\(target)")
        }
        // Pages allow nothing from elsewhere; a report served from the folder runs no script at all.
        #expect(RawHTTP.get(port, "/")?.header("content-security-policy")?.contains("default-src 'none'") == true)
        #expect(RawHTTP.get(port, "/files/lab/index.html")?.header("content-security-policy")?.contains("sandbox") == true)
        // No page refers to anything outside the server.
        for target in ["/", "/runs/alpha", "/predict", "/assets/app.css", "/assets/app.js"] {
            #expect(!(RawHTTP.get(port, target)?.text.contains("http") ?? true), "\(target) names an outside address")
        }
    }

    @Test func theRunsList() throws {
        let response = try #require(RawHTTP.get(port, "/api/runs"))
        #expect(response.status == 200)
        let list = try #require(response.json as? [String: Any])
        let runs = try #require(list["runs"] as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: runs.map { ($0["id"] as! String, $0) })
        #expect(Set(byID.keys) == ["alpha", "lab/runs/beta", "my run", "broken"], "links out of the folder are not followed")
        #expect(byID["alpha"]?["status"] as? String == "finished")
        #expect(byID["alpha"]?["epochs"] as? Int == 2)
        #expect(byID["alpha"]?["hasModel"] as? Bool == true)
        #expect((byID["alpha"]?["validationAccuracy"] as? Double ?? 0) > 0)
        #expect(byID["lab/runs/beta"]?["group"] as? String == "lab/runs")
        #expect(byID["broken"]?["status"] as? String == "unreadable")
        #expect((byID["broken"]?["problem"] as? String)?.contains("metrics.json") == true)
        let reports = try #require(list["reports"] as? [[String: Any]])
        #expect(reports.map { $0["id"] as? String } == ["lab"], "trap/report.html is a link: not a report")
    }

    @Test func aRunAndItsCharts() throws {
        let detail = try #require(RawHTTP.get(port, "/api/runs/alpha")?.json as? [String: Any])
        let history = try #require(detail["history"] as? [String: Any])
        #expect((history["epochs"] as? [Any])?.count == 2)
        #expect(history["config"] is [String: Any])
        #expect((detail["run"] as? [String: Any])?["id"] as? String == "alpha")
        for chart in ["curves.svg", "weights.svg", "confusion.svg"] {
            let response = try #require(RawHTTP.get(port, "/api/runs/alpha/" + chart))
            #expect(response.status == 200, "\(chart): \(response.text.prefix(200))")
            #expect(response.header("content-type")?.hasPrefix("image/svg+xml") == true)
            #expect(response.text.hasPrefix("<svg") || response.text.hasPrefix("<?xml"), "\(chart)")
        }
        #expect(RawHTTP.get(port, "/api/runs/alpha/curves.svg?lang=vi")?.text.contains("độ chính xác") == true)
        let confusion = try #require(RawHTTP.get(port, "/api/runs/lab/runs/beta/confusion")?.json as? [String: Any])
        let counts = try #require(confusion["counts"] as? [[Int]])
        #expect(counts.count == 10 && counts.joined().reduce(0, +) == 10_000)
        #expect((confusion["accuracy"] as? [Double])?.count == 10)
        let compare = try #require(RawHTTP.get(port, "/api/compare.svg?run=alpha&run=lab%2Fruns%2Fbeta"))
        #expect(compare.status == 200 && compare.text.contains("lab/runs/beta"))
    }

    @Test func predictTakesAPhotoRawOrAsAForm() throws {
        let photo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/trouser.jpg")))
        let raw = try #require(RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: photo, headers: ["Content-Type: image/jpeg"]))
        #expect(raw.status == 200, "\(raw.text)")
        let result = try #require(raw.json as? [String: Any])
        let top = try #require(result["top"] as? [[String: Any]])
        #expect(top.count == 3)
        #expect((top.map { $0["probability"] as! Double }).sorted(by: >) == top.map { $0["probability"] as! Double })
        #expect((result["input"] as? String)?.hasPrefix("data:image/png;base64,") == true)
        // The same through a multipart form (a browser form, `curl -F image=@photo.jpg`): the same answer.
        let boundary = "----fashionlab-test"
        let form = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"trouser.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
            + photo + Array("\r\n--\(boundary)--\r\n".utf8)
        let multipart = try #require(RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: form,
                                                     headers: ["Content-Type: multipart/form-data; boundary=\(boundary)"]))
        #expect(multipart.status == 200, "\(multipart.text)")
        #expect(((multipart.json as? [String: Any])?["top"] as? [[String: Any]])?.first?["name"] as? String == top[0]["name"] as? String)
    }

    /// The bad requests of the issue's table, and more: each gets a 4xx with a JSON error, or its connection
    /// closed, and the server goes on answering. The table is printed for the README.
    @Test func badRequestsGetA4xxAndTheServerStaysUp() throws {
        let photo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/trouser.jpg")))
        let boundary = "xyz"
        let truncated = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n".utf8) + photo.prefix(5000)
        let cases: [(String, () -> RawResponse?, Int)] = [
            ("upload over 10 MB (11 MB body)", { RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: [UInt8](repeating: 0xFF, count: 11 << 20)) }, 413),
            ("upload announcing 1 GB, sending little", { RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: photo, headers: ["Content-Length: 1000000000"], timeout: 10) }, 413),
            ("path with .. (/api/runs/../../etc/passwd)", { RawHTTP.get(port, "/api/runs/../../etc/passwd") }, 404),
            ("path with %2e%2e%2f", { RawHTTP.get(port, "/api/runs/%2e%2e%2f%2e%2e%2fetc") }, 404),
            ("page of a run through .. (/runs/alpha/../../x)", { RawHTTP.get(port, "/runs/alpha/../../x") }, 404),
            ("file through .. (/files/../etc/passwd)", { RawHTTP.get(port, "/files/../etc/passwd") }, 404),
            ("a run that is a symlink out of the folder", { RawHTTP.get(port, "/api/runs/escape") }, 404),
            ("a folder that is a symlink to /etc", { RawHTTP.get(port, "/files/etc/report.html") }, 404),
            ("a report that is a symlink to /etc/passwd", { RawHTTP.get(port, "/files/trap/report.html") }, 404),
            ("a file not served (checkpoint)", { RawHTTP.get(port, "/files/alpha/checkpoint.safetensors") }, 404),
            ("hidden name (/files/alpha/.fashionlab.lock)", { RawHTTP.get(port, "/files/alpha/.fashionlab.lock") }, 404),
            ("bad percent-encoding", { RawHTTP.get(port, "/api/runs/%ZZ") }, 400),
            ("unknown route", { RawHTTP.get(port, "/wp-admin") }, 404),
            ("non-image upload", { RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: Array("just some text".utf8)) }, 422),
            ("GIF upload", { RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8)) }, 422),
            ("truncated JPEG", { RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: Array(photo.prefix(3000))) }, 422),
            ("empty upload", { RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: []) }, 400),
            ("truncated multipart body", { RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: truncated, headers: ["Content-Type: multipart/form-data; boundary=\(boundary)"]) }, 400),
            ("multipart without boundary", { RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: photo, headers: ["Content-Type: multipart/form-data"]) }, 400),
            ("predict without ?run", { RawHTTP.request(port: port, "POST", "/api/predict", body: photo) }, 400),
            ("predict with an unknown run", { RawHTTP.request(port: port, "POST", "/api/predict?run=nope", body: photo) }, 404),
            ("predict with an unreadable run", { RawHTTP.request(port: port, "POST", "/api/predict?run=broken", body: photo) }, 404),
            ("GET on predict", { RawHTTP.get(port, "/api/predict?run=alpha") }, 404),
            ("compare of no runs", { RawHTTP.get(port, "/api/compare.svg") }, 400),
            ("compare of 11 runs", { RawHTTP.get(port, "/api/compare.svg?" + Array(repeating: "run=alpha", count: 11).joined(separator: "&")) }, 400),
            ("chart of an unreadable run", { RawHTTP.get(port, "/api/runs/broken/curves.svg") }, 404),
            ("another site's name for 127.0.0.1 (DNS rebinding: Host: evil.example)", {
                let fd = RawHTTP.connect(port: port); defer { close(fd) }
                RawHTTP.send(fd, Array("GET /api/runs HTTP/1.1\r\nHost: evil.example:\(port)\r\nConnection: close\r\n\r\n".utf8))
                return RawHTTP.parse(RawHTTP.receive(fd, timeout: 5).bytes)
            }, 403),
            ("a predict posted by another site's page (Origin)", {
                RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: photo, headers: ["Origin: https://evil.example"])
            }, 403),
            ("request line that is not HTTP", {
                let fd = RawHTTP.connect(port: port); defer { close(fd) }
                RawHTTP.send(fd, Array("HELLO THERE\r\n\r\n".utf8))
                return RawHTTP.parse(RawHTTP.receive(fd, timeout: 5).bytes)
            }, 400),
        ]
        print("| bad request | got |")
        print("| --- | --- |")
        for (what, send, expected) in cases {
            let response = send()
            let got = response.map { "\($0.status) \($0.text.prefix(160))" } ?? "connection closed, no response"
            print("| \(what) | \(got.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")) |")
            #expect(response?.status == expected, "\(what): \(got)")
            if let response, response.status != 405, response.header("content-type")?.hasPrefix("application/json") == true {
                #expect((response.json as? [String: String])?["error"] != nil, "\(what): \(response.text)")
            }
        }
        #expect(folder.server.isRunning)
        #expect(RawHTTP.get(port, "/api/runs")?.status == 200)
        // What a browser sends for pages of its own: its Origin, and the names of this machine.
        #expect(RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: photo, headers: ["Origin: http://127.0.0.1:\(port)"])?.status == 200)
    }

    /// The compare form is a GET: a browser sends a run named "my run" as `run=my+run`.
    @Test func compareTakesRunNamesAsAFormSendsThem() throws {
        let page = try #require(RawHTTP.get(port, "/compare?run=my+run&run=alpha"))
        #expect(page.status == 200 && page.text.contains("my run"), "\(page.status) \(page.text.prefix(200))")
        #expect(RawHTTP.get(port, "/api/compare.svg?run=my+run&run=lab%2Fruns%2Fbeta")?.status == 200)
    }

    /// A client that opens a connection and sends its request slowly, or not at all, is disconnected after
    /// --request-time (2 s here); the server answers others meanwhile.
    @Test func slowClientsAreCutOff() throws {
        for (what, drip) in [("half a request line, then silence", false), ("a header byte every 0.4 s", true)] {
            let fd = RawHTTP.connect(port: port)
            defer { close(fd) }
            let start = Date()
            RawHTTP.send(fd, Array("GET /api/runs HTTP/1.1\r\nHost: x\r\n".utf8))
            var closed = false
            if drip {
                for _ in 0..<30 {
                    RawHTTP.send(fd, Array("X".utf8))
                    let (_, ended) = RawHTTP.receive(fd, timeout: 0.4)
                    if ended { closed = true; break }
                }
            } else {
                #expect(RawHTTP.get(port, "/api/runs")?.status == 200, "others are answered meanwhile")
                closed = RawHTTP.receive(fd, timeout: 8).closed
            }
            let seconds = Date().timeIntervalSince(start)
            print("| slow client: \(what) | connection closed after \(String(format: "%.1f", seconds)) s |")
            #expect(closed, "\(what)")
            #expect(seconds < 6, "\(what): \(seconds) s")
        }
    }

    /// The server changes nothing under the folder: no lock file taken, no file written, no time touched.
    @Test func theFolderIsLeftAsItWas() throws {
        _ = RawHTTP.get(port, "/api/runs/alpha/weights.svg")
        _ = RawHTTP.request(port: port, "POST", "/api/predict?run=alpha", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/trouser.jpg"))))
        #expect(ServedFolder.listing(folder.root) == folder.before)
    }
}

/// Live updates: a new run and a changed run reach a page following `/api/events` within a second.
@Suite(.enabled(if: dataAvailable, "needs Fashion-MNIST"))
struct LiveUpdateTests {
    @Test func eventsForANewRunAndAChangedOne() throws {
        let root = TestFiles.newDirectory("serve-live")
        let source = TestFiles.newDirectory("serve-source")
        try quickRun(in: source, name: "done", epochs: 1)
        let server = try ServeProcess(runs: root)
        defer { server.stop() }
        let fd = RawHTTP.connect(port: server.port)
        defer { close(fd) }
        RawHTTP.send(fd, Array("GET /api/events HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        let hello = RawHTTP.receive(fd, timeout: 5) { String(decoding: $0, as: UTF8.self).contains(": connected") }
        #expect(String(decoding: hello.bytes, as: UTF8.self).contains("text/event-stream"))

        // A run appears: `runs`.
        let metrics = try Data(contentsOf: URL(fileURLWithPath: source + "/done/metrics.json"))
        try FileManager.default.createDirectory(atPath: root + "/new", withIntermediateDirectories: true)
        var start = Date()
        try metrics.write(to: URL(fileURLWithPath: root + "/new/metrics.json"), options: .atomic)
        let appeared = RawHTTP.receive(fd, timeout: 5) { String(decoding: $0, as: UTF8.self).contains("event: runs") }
        #expect(String(decoding: appeared.bytes, as: UTF8.self).contains("event: runs"))
        #expect(Date().timeIntervalSince(start) < 1.0)

        // Its metrics change: `run` with its id.
        start = Date()
        try metrics.write(to: URL(fileURLWithPath: root + "/new/metrics.json"), options: .atomic)
        let changed = RawHTTP.receive(fd, timeout: 5) { String(decoding: $0, as: UTF8.self).contains("\"id\":\"new\"") }
        #expect(String(decoding: changed.bytes, as: UTF8.self).contains("event: run\ndata: {\"id\":\"new\"}"))
        #expect(Date().timeIntervalSince(start) < 1.0)

        // 32 pages may follow at once; the 33rd is told to wait.
        var followers: [Int32] = []
        defer { for follower in followers { close(follower) } }
        for _ in 0..<31 {
            let follower = RawHTTP.connect(port: server.port)
            RawHTTP.send(follower, Array("GET /api/events HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            _ = RawHTTP.receive(follower, timeout: 5) { String(decoding: $0, as: UTF8.self).contains(": connected") }
            followers.append(follower)
        }
        #expect(RawHTTP.get(server.port, "/api/events")?.status == 503)
        #expect(server.stop(), "SIGTERM ends the server even with pages following")
    }
}
