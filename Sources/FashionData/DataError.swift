import Foundation

/// An error reading, locating, downloading or verifying dataset files.
///
/// The description always names the file (or flag) first and then what was wrong,
/// for example `train-images-idx3-ubyte.gz: truncated gzip stream (input ended early)`.
public struct DataError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The file, URL or flag the error is about.
    public let subject: String
    /// What was wrong with it.
    public let message: String

    public init(_ subject: String, _ message: String) {
        self.subject = subject
        self.message = message
    }

    public var description: String { "\(subject): \(message)" }
    public var errorDescription: String? { description }
}

/// A download stopped by SIGINT or SIGTERM (its partial file removed): the program should end as an interrupted one.
public struct DownloadInterrupted: Error, CustomStringConvertible, Equatable {
    public let source: String
    public var description: String { "\(source): download interrupted (SIGINT or SIGTERM); the partial file was removed" }
}
