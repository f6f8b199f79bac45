import Foundation
import FashionCore
import FashionTraining
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `fashionlab serve`: a web front end for the runs under a folder, on Hummingbird 2.
///
/// ```swift
/// let server = try Dashboard(settings: .init(runs: "runs"))
/// try await server.run { address in print("Serving \(address)") }
/// ```
///
/// Routes (pages, then the JSON API the pages use):
///
/// | route | what |
/// | --- | --- |
/// | `GET /` | every run, study and lab report under the folder |
/// | `GET /runs/{id…}` | one run: curves, weight histograms, confusion matrix, per-class accuracy |
/// | `GET /compare?run=ID&run=ID…` | the runs' curves overlaid |
/// | `GET /predict?run=ID` | try a model on a photo or a drawing |
/// | `GET /api/runs` | ``RunList`` |
/// | `GET /api/runs/{id…}` | ``RunDetail`` |
/// | `GET /api/runs/{id…}/curves.svg`, `weights.svg`, `confusion.svg` | the charts (`?lang=vi`) |
/// | `GET /api/runs/{id…}/confusion` | ``ConfusionResult`` |
/// | `GET /api/compare.svg?run=ID&run=ID…` | curves of up to 10 runs |
/// | `POST /api/predict?run=ID` | ``PredictResult`` for the picture in the body (raw or multipart) |
/// | `GET /api/events` | Server-Sent Events: `runs`, `run` with `{"id": …}` |
/// | `GET /files/{id…}/report.html`, `index.html` | a run's, study's or lab's own report |
public struct Dashboard: Sendable {
    public struct Settings: Sendable {
        public var runs: String
        public var host = "127.0.0.1"
        public var port = 8080
        /// Where the test set is (for confusion matrices); nil: FashionLab's usual places.
        public var data: String?
        /// The largest picture `POST /api/predict` accepts, in bytes.
        public var uploadLimit = 10 << 20
        /// How long a client has to send a whole request.
        public var requestTime = Duration.seconds(20)
        /// How many pages may follow `/api/events` at once.
        public var maxEventClients = 32

        public init(runs: String, host: String = "127.0.0.1", port: Int = 8080, data: String? = nil) {
            (self.runs, self.host, self.port, self.data) = (runs, host, port, data)
        }
    }

    public let settings: Settings
    let watcher: RunWatcher
    let api: API
    /// The address bound, once listening: whether it is loopback decides the Host and Origin checks.
    let listening = ListeningAddress()

    public init(settings: Settings) throws {
        self.settings = settings
        let folder = try RunsFolder(settings.runs)
        watcher = RunWatcher(catalogue: RunCatalogue(folder: folder), maxSubscribers: settings.maxEventClients)
        api = API(watcher: watcher, models: ModelStore(folder: folder, dataDirectory: settings.data), uploadLimit: settings.uploadLimit)
    }

    /// Serves until the process is asked to stop (SIGINT, SIGTERM); `started` gets the address once listening:
    /// the one bound, whatever `host` spelled (`127.1` listens on `http://127.0.0.1:PORT/`), with the port the
    /// system chose when `port` is 0.
    public func run(started: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let seconds = settings.requestTime.components.seconds
        let listening = self.listening
        let app = Application(
            router: router(),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(limit: .seconds(seconds)), EventStreamHangUpHandler()], idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "fashionlab"),
            onServerRunning: { channel in
                listening.address = channel.localAddress
                let host = channel.localAddress.map(ListeningAddress.urlHost) ?? "?"
                started("http://\(host):\(channel.localAddress?.port ?? 0)/")
            })
        let watching = Task { await watcher.run() }
        defer { watching.cancel() }
        try await app.runService()
    }

    func router() -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        router.middlewares.add(JSONErrorMiddleware())
        router.middlewares.add(LoopbackOnlyMiddleware(listening: listening))
        let api = self.api, watcher = self.watcher

        // Pages.
        router.get("/") { request, _ in Pages.index(Self.words(request)) }
        router.get("/runs/**") { request, context in
            let names = try context.parameters.getCatchAll().map { component -> String in
                guard let name = component.removingPercentEncoding else { throw ServeError(.badRequest, "bad percent-encoding in the path") }
                return name
            }
            let run = try api.run(names.joined(separator: "/"))
            return Pages.run(run.id, words: Self.words(request))
        }
        router.get("/compare") { request, _ in
            let ids = try Self.runIDs(request)
            for id in ids { _ = try api.run(id) }
            return Pages.compare(ids, words: Self.words(request))
        }
        router.get("/predict") { request, _ in
            Pages.predict(request.uri.queryParameters["run"].map(String.init), words: Self.words(request))
        }
        router.get("/assets/{name}") { _, context in
            guard let name = context.parameters.get("name"), let asset = Assets.files[name] else { throw ServeError(.notFound, "no such asset") }
            return Response(status: .ok, headers: [.contentType: asset.type, .cacheControl: "no-cache"],
                            body: .init(byteBuffer: ByteBuffer(string: asset.text)))
        }
        router.get("/files/**") { _, context in try Self.reportFile(context.parameters.getCatchAll(), api: api) }

        // The API.
        router.get("/api/runs") { _, _ in try API.json(api.runs()) }
        router.get("/api/runs/**") { request, context in try await api.runRoute(context.parameters.getCatchAll(), words: Self.words(request)) }
        router.get("/api/compare.svg") { request, _ in
            try api.compare(Self.runIDs(request), words: Self.words(request))
        }
        router.post("/api/predict") { request, context in try await api.predict(request, context: context) }
        router.get("/api/events") { _, context in try Self.events(watcher, connection: context.channel) }
        return router
    }

    /// The `run` values of the query, as a form sends them: `+` is a space (a run named `my run` arrives as
    /// `my+run`), `%2B` a plus.
    static func runIDs(_ request: Request) throws -> [String] {
        try (request.uri.query ?? "").split(separator: "&").compactMap { pair -> String? in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "run" else { return nil }
            guard let id = parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                throw ServeError(.badRequest, "bad percent-encoding in the query")
            }
            return id
        }
    }

    static func words(_ request: Request) -> DashboardWords {
        DashboardWords.named(request.uri.queryParameters["lang"].map(String.init))
    }

    /// `text/event-stream`: a comment at once (so the page knows it is connected), then every change, and a
    /// comment every 15 s (a connection that went quiet without closing is noticed when that write fails). The stream
    /// ends, freeing the page's place, as soon as its connection closes (``EventStreamHangUpHandler`` closes it when
    /// the page goes away), and when the server is asked to stop (SIGINT, SIGTERM), which otherwise waits for every
    /// open response to end.
    static func events(_ watcher: RunWatcher, connection: any Channel) throws -> Response {
        guard let stream = watcher.subscribe() else {
            throw ServeError(.serviceUnavailable, "too many pages are following the runs (\(watcher.maxSubscribers)); close one")
        }
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 1000\n: connected\n\n"))
            let (merged, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(64))
            connection.closeFuture.whenComplete { _ in continuation.finish() }
            let forward = Task {
                for await event in stream { continuation.yield(event.wireFormat) }
                continuation.finish()
            }
            let ping = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(15))
                    continuation.yield(": ping\n\n")
                }
            }
            defer { forward.cancel(); ping.cancel() }
            for try await text in merged.cancelOnGracefulShutdown() { try await writer.write(ByteBuffer(string: text)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    /// A study's, lab's or run's own report (`report.html`, `index.html`) or a run's `metrics.csv`/`metrics.json`,
    /// as written by FashionLab: self-contained, served with the reports' own strict content policy. Sent in pieces
    /// of ``FileBody/pieceBytes`` as they are read, so a file of any size costs the server no more memory than that.
    static func reportFile(_ path: [Substring], api: API) throws -> Response {
        let names = try path.map { component -> String in
            guard let name = component.removingPercentEncoding else { throw ServeError(.badRequest, "bad percent-encoding in the path") }
            return name
        }
        let types = [RunDirectory.reportPage: "text/html; charset=utf-8", RunDirectory.labPage: "text/html; charset=utf-8",
                     RunDirectory.csvFile: "text/csv; charset=utf-8", RunDirectory.metricsFile: "application/json; charset=utf-8"]
        guard let file = names.last, let type = types[file], names.count > 1 else {
            throw ServeError(.notFound, "only \(types.keys.sorted().joined(separator: ", ")) are served from a run's folder")
        }
        let directory = try RunsFolder.components(of: names.dropLast().joined(separator: "/"))
        let opened = try FileBody(api.watcher.catalogue.folder.openFile(directory, file))
        return Response(status: .ok, headers: [.contentType: type, .contentSecurityPolicy: ReportPageCSP.value, .cacheControl: "no-store",
                                               HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
                        body: opened.body(name: names.joined(separator: "/")))
    }
}

/// An open file sent as a response body, piece by piece; closed when the response is done with (sent, or dropped
/// because the client went away first).
final class FileBody: @unchecked Sendable {
    static let pieceBytes = 64 << 10
    let descriptor: Int32
    let size: Int

    init(_ opened: (descriptor: Int32, size: Int)) { (descriptor, size) = opened }

    deinit { close(descriptor) }

    /// The file's `size` bytes; a file that shrinks meanwhile (`name` says which) ends the connection.
    func body(name: String) -> ResponseBody {
        ResponseBody(contentLength: size) { writer in
            var left = self.size
            while left > 0 {
                var piece = ByteBufferAllocator().buffer(capacity: min(left, Self.pieceBytes))
                let count = piece.writeWithUnsafeMutableBytes(minimumWritableBytes: min(left, Self.pieceBytes)) { buffer in
                    max(0, Glibc.read(self.descriptor, buffer.baseAddress!, min(left, buffer.count)))
                }
                guard count > 0 else { throw ServeError(.internalServerError, "\(name) became shorter while it was sent") }
                left -= count
                try await writer.write(piece)
            }
            try await writer.finish(nil)
        }
    }
}

/// A request's context: Hummingbird's, and the connection the request came on (an event stream ends with it).
struct ServeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The reports' own policy (``FashionCharts/ReportPage/contentSecurityPolicy``): no script at all.
enum ReportPageCSP {
    static let value = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
}
