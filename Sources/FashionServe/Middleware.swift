import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Every refusal and failure as `{"error": "…"}` with its status: a ``ServeError``, Hummingbird's own (404 for
/// an unknown route, 413 for an upload over the limit, 400 for a malformed request) or anything else (500, the
/// message logged, never shown). A request never crashes the server: errors end here.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServeError {
            return Self.response(error.status, error.message)
        } catch let error as HTTPError {
            return Self.response(error.status, error.body ?? Self.explain(error.status))
        } catch let error as any HTTPResponseError {
            return Self.response(error.status, Self.explain(error.status))
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            return Self.response(.internalServerError, "the server could not answer this request (see its log)")
        }
    }

    static func explain(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no such page or API route"
        case .contentTooLarge: "the upload is larger than the server accepts"
        default: status.reasonPhrase
        }
    }

    static func response(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Bounds every request in time, below the router: a client gets ``limit`` from the moment its connection opens,
/// or its previous response ends, to deliver a whole request, head and body; a client that trickles (one byte now
/// and then, never finishing) has its connection closed. The time the server then takes to answer is not
/// counted, so `/api/events` streams for as long as the page stays open.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limit: TimeAmount
    private var timer: Scheduled<Void>?

    init(limit: TimeAmount) { self.limit = limit }

    func handlerAdded(context: ChannelHandlerContext) { arm(context) }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context) }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
    }
}

/// Closes a connection whose client has closed its side while an event stream (`text/event-stream`) is sent to it.
/// The server lets clients half-close a connection (one may still wait for its answer), so a page that goes away
/// while following live updates would otherwise be noticed only by the next write, the ping 15 s later, and hold
/// its place among the ``Dashboard/Settings/maxEventClients`` until then. Closing the connection ends the stream
/// (``Dashboard/events(_:connection:)`` waits for it) and frees the place at once.
final class EventStreamHangUpHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var inputClosed = false
    private var streaming = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            if streaming { context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head): streaming = head.headerFields[.contentType] == "text/event-stream"
        case .end: streaming = false
        case .body: break
        }
        context.write(data, promise: promise)
        if streaming, inputClosed { context.close(promise: nil) }
    }
}

/// Where the server listens, known once it is bound. The loopback checks follow the address the system bound, not
/// how `--host` spelled it: `127.1`, `0x7f.1`, `2130706433` and `LocalHost` all listen on 127.0.0.1.
final class ListeningAddress: @unchecked Sendable {
    private let lock = NSLock()
    private var bound: SocketAddress?

    /// The address the listening socket is bound to; nil until then.
    var address: SocketAddress? {
        get { lock.withLock { bound } }
        set { lock.withLock { bound = newValue } }
    }

    /// Whether `address` is on loopback: 127.0.0.0/8, `::1`, or 127.0.0.0/8 mapped into IPv6 (`::ffff:127.x.y.z`).
    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let v4):
            return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            let mappedIPv4 = bytes[..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            return bytes == Array(repeating: 0, count: 15) + [1] || (mappedIPv4 && bytes[12] == 127)
        case .unixDomainSocket:
            return false
        }
    }

    /// The address as a URL writes its host: `127.0.0.1`, `[::1]`.
    static func urlHost(_ address: SocketAddress) -> String {
        let text = (address.ipAddress ?? "").lowercased()
        return text.contains(":") ? "[\(text)]" : text
    }
}

/// When the server listens on loopback, only requests addressed to this machine by a loopback name are answered. A
/// web page whose own name an attacker has pointed at 127.0.0.1 (DNS rebinding) sends that name as `Host`, and a
/// page of another site that posts a form or fetches here sends its own `Origin`: both are refused (403), so no web
/// page can read the runs or make the server work.
///
/// `Host` must name 127.0.0.1, localhost, [::1] or the address bound (any port: an SSH tunnel changes it). `Origin`,
/// when sent, must be the page's own: `http://` with the host and port of `Host`. An opaque origin (`null`: a
/// sandboxed frame, a `data:` page) and a page another program serves on this machine (another port) are other sites.
struct LoopbackOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    let listening: ListeningAddress

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The first `Host` became the authority; one left among the fields is a second (RFC 9112 §3.2: 400).
        if request.headers[HTTPField.Name("Host")!] != nil { throw ServeError(.badRequest, "a request has one Host header, this one has more") }
        // Nothing is answered before the address is known, so an unknown one is taken for loopback.
        if let bound = listening.address, !ListeningAddress.isLoopback(bound) { return try await next(request, context) }
        let names = Self.names(bound: listening.address)
        guard let host = request.head.authority.flatMap({ Self.authority($0[...]) }), names.contains(host.name) else {
            throw ServeError(.forbidden, "this server answers requests addressed to \(names.joined(separator: ", ")) only (Host: \(Self.shown(request.head.authority ?? "none")))")
        }
        if let origin = request.headers[.origin] {
            let scheme = "http://"
            guard origin.lowercased().hasPrefix(scheme), let page = Self.authority(origin.dropFirst(scheme.count)),
                  page.name == host.name, (page.port ?? 80) == (host.port ?? 80) else {
                throw ServeError(.forbidden, "requests from pages of other sites are refused (Origin: \(Self.shown(origin)), Host: \(Self.shown(request.head.authority ?? "none")))")
            }
        }
        return try await next(request, context)
    }

    /// The names a request may give in `Host`: those of loopback, and the address bound (`127.0.0.2`).
    static func names(bound: SocketAddress?) -> [String] {
        let names = ["127.0.0.1", "localhost", "[::1]"]
        guard let bound, !names.contains(ListeningAddress.urlHost(bound)) else { return names }
        return names + [ListeningAddress.urlHost(bound)]
    }

    /// A header's value as an error message shows it: at most 100 characters.
    static func shown(_ value: String) -> String { value.count > 100 ? value.prefix(100) + "…" : value }

    /// `host[:port]` (`[v6]:port`): the host in lower case (an IPv6 literal with its brackets) and the port; nil when
    /// the port is not 1 to 5 digits. Userinfo, a zone or a second port stay in the host and match no name.
    static func authority(_ text: Substring) -> (name: String, port: Int?)? {
        guard let colon = text.lastIndex(of: ":"), !text[colon...].contains("]") else { return (text.lowercased(), nil) }
        let digits = text[text.index(after: colon)...]
        guard (1...5).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(digits) else { return nil }
        return (text[..<colon].lowercased(), port)
    }
}
