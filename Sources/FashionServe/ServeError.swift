import Foundation
import Hummingbird

/// A request the server refuses or cannot answer: an HTTP status and a message for a person, sent as
/// `{"error": "…"}` (see `JSONErrorMiddleware`).
public struct ServeError: Error, CustomStringConvertible, Sendable {
    public let status: HTTPResponse.Status
    public let message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        (self.status, self.message) = (status, message)
    }

    public var description: String { message }
}
