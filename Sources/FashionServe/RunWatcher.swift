import Foundation

/// What the pages hear over Server-Sent Events (`/api/events`).
public enum DashboardEvent: Sendable, Equatable {
    /// A run appeared or went away: the list is to be fetched again.
    case runs
    /// A run's files or status changed: its page is to be fetched again.
    case run(id: String)

    /// The event as the `text/event-stream` format writes it.
    var wireFormat: String {
        switch self {
        case .runs: "event: runs\ndata: {}\n\n"
        case .run(let id):
            "event: run\ndata: " + String(decoding: (try? JSONEncoder().encode(["id": id])) ?? Data("{}".utf8), as: UTF8.self) + "\n\n"
        }
    }
}

/// Scans the runs folder every ``interval`` (a portable poll of file times and sizes, cheap for the few hundred
/// runs a student has) and tells every subscriber what changed. Holds the latest snapshot for the API.
public final class RunWatcher: @unchecked Sendable {
    public let catalogue: RunCatalogue
    public static let interval = Duration.milliseconds(250)
    /// At most this many pages follow the runs at once; one more is refused with 503.
    public let maxSubscribers: Int
    private let lock = NSLock()
    private var latest: CatalogueSnapshot
    private var subscribers: [UUID: AsyncStream<DashboardEvent>.Continuation] = [:]

    public init(catalogue: RunCatalogue, maxSubscribers: Int = 32) {
        self.catalogue = catalogue
        self.maxSubscribers = maxSubscribers
        latest = catalogue.scan()
    }

    /// The runs and reports as of the last scan.
    public var snapshot: CatalogueSnapshot { lock.withLock { latest } }

    /// Scans until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.interval)
            update()
        }
        // Finished outside the lock: finishing runs each stream's onTermination, which takes the lock.
        let ending = lock.withLock { Array(subscribers.values) }
        for continuation in ending { continuation.finish() }
    }

    /// One scan: the events for what changed since the last one, sent to every subscriber.
    func update() {
        let next = catalogue.scan()
        let events: [DashboardEvent] = lock.withLock {
            let before = Dictionary(latest.runs.map { ($0.id, $0.signature) }, uniquingKeysWith: { a, _ in a })
            var events: [DashboardEvent] = []
            if Set(before.keys) != Set(next.runs.map(\.id)) || latest.reports != next.reports { events.append(.runs) }
            for run in next.runs where before[run.id] != nil && before[run.id] != run.signature { events.append(.run(id: run.id)) }
            latest = next
            return events
        }
        guard !events.isEmpty else { return }
        let targets = lock.withLock { Array(subscribers.values) }
        for continuation in targets { for event in events { continuation.yield(event) } }
    }

    /// A stream of events for one page; nil when ``maxSubscribers`` pages already follow.
    public func subscribe() -> AsyncStream<DashboardEvent>? {
        let id = UUID()
        let (stream, continuation) = AsyncStream<DashboardEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let added = lock.withLock {
            guard subscribers.count < maxSubscribers else { return false }
            subscribers[id] = continuation
            return true
        }
        guard added else { return nil }
        continuation.onTermination = { [weak self] _ in self?.lock.withLock { _ = self?.subscribers.removeValue(forKey: id) } }
        return stream
    }
}
