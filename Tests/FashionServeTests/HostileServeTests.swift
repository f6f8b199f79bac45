import Foundation
import Testing
import FashionTestSupport
import FashionTraining

/// What a stranger tries against `fashionlab serve` (issue #35): other spellings of the loopback address, origins a
/// browser sends from pages that are not the server's, live-update followers that come and go, and a run folder
/// holding a valid but huge `metrics.json`. None of these needs the dataset: the runs are written here.
@Suite(.serialized) struct HostileServeTests {
    /// `--host` spellings that the resolver reads as 127.0.0.1 (short, hexadecimal, decimal, octal forms, a name in
    /// other cases): the server listens on loopback, so it must refuse requests addressed to other names (DNS
    /// rebinding) just as it does with `--host 127.0.0.1`; it says the address it listens on, not the spelling.
    @Test(arguments: ["127.1", "0x7f.1", "2130706433", "0177.0.0.1", "127.0.1", "LocalHost"])
    func loopbackChecksWhateverTheSpelling(host: String) throws {
        let server = try ServeProcess(runs: TestFiles.newDirectory("serve-spelling"), extra: ["--host", host])
        defer { server.stop() }
        let port = server.port
        #expect(server.address == "http://127.0.0.1:\(port)/", "--host \(host)")
        let rebound = RawHTTP.request(port: port, "GET", "/api/runs", host: "evil.example:\(port)")
        #expect(rebound?.status == 403, "--host \(host), Host: evil.example: \(rebound.map { "\($0.status) \($0.text)" } ?? "no answer")")
        let foreign = RawHTTP.request(port: port, "GET", "/api/runs", headers: ["Origin: https://evil.example"])
        #expect(foreign?.status == 403, "--host \(host), a foreign Origin")
        #expect(RawHTTP.get(port, "/api/runs")?.status == 200, "--host \(host), Host: 127.0.0.1")
    }

    /// On loopback, a request is answered only when addressed to 127.0.0.1, localhost or [::1] (any port: an SSH
    /// tunnel changes it) and, when it carries an `Origin`, only when that is the page's own: `http://` and the
    /// same host and port as `Host`. `Origin: null` (a sandboxed frame, a `data:` page) and a page served by another
    /// program on this machine (another port) are other sites.
    @Test func hostileHostsAndOriginsAreRefused() throws {
        let server = try ServeProcess(runs: TestFiles.newDirectory("serve-origins"))
        defer { server.stop() }
        let port = server.port, me = "127.0.0.1:\(port)"
        let cases: [(what: String, host: String, headers: [String], method: String, expected: Int)] = [
            ("Origin: null (a sandboxed frame) reading the runs", me, ["Origin: null"], "GET", 403),
            ("Origin: null (a sandboxed frame) posting a prediction", me, ["Origin: null"], "POST", 403),
            ("Origin of a page on another port of this machine", me, ["Origin: http://127.0.0.1:\(port == 1 ? 2 : 1)"], "GET", 403),
            ("Origin of the same host over https", me, ["Origin: https://127.0.0.1:\(port)"], "GET", 403),
            ("Origin of another site", me, ["Origin: http://evil.example"], "POST", 403),
            ("Origin with our host as a prefix of another name", me, ["Origin: http://127.0.0.1:\(port).evil.example"], "GET", 403),
            ("Origin with userinfo", me, ["Origin: http://evil.example@127.0.0.1:\(port)"], "GET", 403),
            ("Origin with a path", me, ["Origin: http://127.0.0.1:\(port)/x"], "GET", 403),
            ("Host: localhost. (trailing dot)", "localhost.:\(port)", [], "GET", 403),
            ("Host with userinfo", "evil.example@127.0.0.1:\(port)", [], "GET", 403),
            ("Host: an IPv6 literal with a zone", "[::1%25lo]:\(port)", [], "GET", 403),
            ("Host with two ports", "\(me):80", [], "GET", 403),
            ("Host: another loopback address", "127.0.0.2:\(port)", [], "GET", 403),
            ("Host: a name of another site", "evil.example:\(port)", [], "GET", 403),
            ("two Host headers, ours first", "\(me)\r\nHost: evil.example", [], "GET", 400),
            ("Host: 127.0.0.1", me, [], "GET", 200),
            ("Host: localhost in capitals", "LOCALHOST:\(port)", [], "GET", 200),
            ("Host: [::1]", "[::1]:\(port)", [], "GET", 200),
            ("Host without a port", "localhost", [], "GET", 200),
            ("the page's own Origin", me, ["Origin: http://\(me)"], "GET", 200),
            ("the page's own Origin, scheme in capitals", me, ["Origin: HTTP://\(me)"], "GET", 200),
            ("the page's own Origin through an SSH tunnel on port 9000", "localhost:9000", ["Origin: http://localhost:9000"], "GET", 200),
        ]
        for (what, host, headers, method, expected) in cases {
            let response = method == "GET" ? RawHTTP.request(port: port, "GET", "/api/runs", headers: headers, host: host)
                : RawHTTP.request(port: port, "POST", "/api/predict?run=none", body: [0xFF, 0xD8], headers: headers, host: host)
            let got = response.map { "\($0.status) \($0.text.prefix(160))" } ?? "no answer"
            print("| \(what) | \(got) |")
            #expect(response?.status == expected, "\(what): \(got)")
        }
        #expect(server.isRunning)
    }

    /// A page that follows `/api/events` and goes away frees its slot at once: many more pages than the server
    /// follows at once (32) come and go, and the next one is still followed.
    @Test func disconnectedFollowersFreeTheirSlotsAtOnce() throws {
        let server = try ServeProcess(runs: TestFiles.newDirectory("serve-followers"))
        defer { server.stop() }
        for _ in 0..<80 {
            let follower = RawHTTP.connect(port: server.port)
            RawHTTP.send(follower, Array("GET /api/events HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            // Connected, or turned away (503) when every place is taken.
            _ = RawHTTP.receive(follower, timeout: 5) { String(decoding: $0, as: UTF8.self).contains(": connected") || RawHTTP.isComplete($0) }
            close(follower)
        }
        // The server notices the closes as they come; give it a moment, far less than the 15 s between pings.
        let start = Date()
        var answer: RawResponse?
        repeat {
            answer = RawHTTP.request(port: server.port, "GET", "/api/events", timeout: 0.5)
            if answer?.status == 200 { break }
            usleep(100_000)
        } while Date().timeIntervalSince(start) < 2
        #expect(answer?.status == 200, "after 80 pages came and went: \(answer.map { "\($0.status) \($0.text)" } ?? "no answer")")
    }

    /// A run whose `metrics.json` is valid but far larger than any run writes (here 44 MB of logged steps) is listed
    /// as unreadable, saying which file and the limit, and is never decoded or kept: the server's memory stays small.
    @Test func aHugeMetricsFileIsRefusedAndNotKept() throws {
        let root = TestFiles.newDirectory("serve-huge")
        var history = TrainingHistory(config: TrainingConfig())
        history.epochs = [EpochMetrics(epoch: 1, learningRate: 0.01, trainLoss: 0.5, trainAccuracy: 0.8, validationLoss: 0.5,
                                       validationAccuracy: 0.8, trainSeconds: 1, evaluationSeconds: 1)]
        history.steps = (1...500_000).map { StepLoss(step: $0, epoch: Double($0) / 1875, loss: 0.5 + Double($0 % 1000) / 1e6) }
        try FileManager.default.createDirectory(atPath: root + "/huge", withIntermediateDirectories: true)
        try RunDirectory.saveHistory(history, to: root + "/huge")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: root + "/huge/metrics.json")[.size] as? Int)
        #expect(size > 40 << 20)

        let server = try ServeProcess(runs: root)
        defer { server.stop() }
        let list = try #require(RawHTTP.get(server.port, "/api/runs")?.json as? [String: Any])
        let run = try #require((list["runs"] as? [[String: Any]])?.first)
        let problem = run["problem"] as? String ?? ""
        #expect(run["status"] as? String == "unreadable")
        #expect(problem.contains("huge/metrics.json") && problem.contains("32 MB"), "\(problem)")
        let curves = try #require(RawHTTP.get(server.port, "/api/runs/huge/curves.svg"))
        let refusal = (curves.json as? [String: String])?["error"] ?? ""
        #expect((400..<500).contains(curves.status) && refusal.contains("huge/metrics.json") && refusal.contains("32 MB"), "\(curves.status) \(curves.text)")
        for _ in 0..<4 { _ = RawHTTP.get(server.port, "/api/runs/huge") }
        let peak = try #require(server.peakMemory)
        print("| a \(size >> 20) MB metrics.json | \(run["status"] ?? "?"): \(problem) | peak \(peak >> 20) MB |")
        #expect(peak < 100 << 20, "the server's peak memory: \(peak >> 20) MB")
    }
}
