import Foundation
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

/// On a loopback address, only requests addressed to this machine by a loopback name are answered. A web page
/// whose own name an attacker has pointed at 127.0.0.1 (DNS rebinding) sends that name as `Host`, and a page of
/// another site that posts a form here sends its own `Origin`: both are refused (403), so no web page can read the
/// runs or make the server work.
struct LoopbackOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authority = request.head.authority, Self.isLoopback(authority: authority[...]) else {
            throw ServeError(.forbidden, "this server answers requests to 127.0.0.1, localhost or [::1] only (Host: \(Self.shown(request.head.authority ?? "none")))")
        }
        if let origin = request.headers[.origin], origin != "null" {
            let authority = origin.split(separator: "://", maxSplits: 1).dropFirst().first ?? ""
            guard Self.isLoopback(authority: authority) else {
                throw ServeError(.forbidden, "requests from pages of other sites are refused (Origin: \(Self.shown(origin)))")
            }
        }
        return try await next(request, context)
    }

    /// A header's value as an error message shows it: at most 100 characters.
    static func shown(_ value: String) -> String { value.count > 100 ? value.prefix(100) + "…" : value }

    /// Whether `authority` (`host[:port]`, `[v6]:port`) names this machine by a loopback name.
    static func isLoopback(authority: Substring) -> Bool {
        let host: Substring
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<end]
        } else {
            host = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }
        return isLoopback(host: String(host))
    }

    /// Whether `host` is `localhost`, `::1` or an address in 127.0.0.0/8.
    static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in UInt8(part) != nil }
    }
}
