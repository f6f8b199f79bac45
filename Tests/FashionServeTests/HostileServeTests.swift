import Foundation
import Testing
import FashionTestSupport

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
}
