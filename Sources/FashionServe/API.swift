import Foundation
import FashionCore
import FashionCharts
import FashionData
import FashionImaging
import FashionTraining
import Hummingbird

/// One run in `/api/runs`: where it is, its status, settings, final numbers and time. Numbers that are not
/// finite (a diverged run's loss) are `null`.
public struct RunSummary: Codable, Sendable, Equatable {
    public let id: String
    /// The run's folder name, and the folder it is in ("" at the top; "lab/runs" for a lab's).
    public let name: String
    public let group: String
    public let status: RunStatus
    public let problem: String?
    public let settings: String?
    public let chartTitle: String?
    public let epochs: Int
    public let plannedEpochs: Int?
    public let trainLoss: Double?
    public let trainAccuracy: Double?
    public let validationLoss: Double?
    public let validationAccuracy: Double?
    public let testAccuracy: Double?
    /// Training and evaluation time of the epochs so far, in seconds.
    public let seconds: Double
    /// ISO 8601, when its metrics last changed.
    public let updated: String
    public let hasModel: Bool
    public let hasReport: Bool

    init(_ run: RunRecord) {
        id = run.id
        name = run.components.last!
        group = run.components.dropLast().joined(separator: "/")
        status = run.status
        problem = run.problem
        let history = run.history, last = history?.last
        settings = history?.config.summary
        chartTitle = history?.config.chartTitle
        epochs = history?.epochs.count ?? 0
        plannedEpochs = history?.config.epochs
        trainLoss = Self.finite(last?.trainLoss)
        trainAccuracy = Self.finite(last?.trainAccuracy)
        validationLoss = Self.finite(last?.validationLoss)
        validationAccuracy = Self.finite(last?.validationAccuracy)
        testAccuracy = Self.finite(history?.test?.accuracy)
        seconds = Self.finite(history?.epochs.reduce(0) { $0 + $1.trainSeconds + $1.evaluationSeconds }) ?? 0
        updated = ISO8601DateFormatter().string(from: run.updated)
        hasModel = run.modelFile != nil
        hasReport = run.hasReport
    }

    static func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }
}

/// `/api/runs`.
public struct RunList: Codable, Sendable {
    public let runs: [RunSummary]
    public let reports: [ReportRecord]
}

/// `/api/runs/{id}`: the summary, the settings as `metrics.json` stores them and the whole history (per-epoch
/// metrics, `steps` logged with `--log-every`, the test measurement). NaN and infinities are the strings "nan",
/// "inf", "-inf", as in `metrics.json`.
public struct RunDetail: Encodable, Sendable {
    public let run: RunSummary
    public let history: TrainingHistory?

    /// The answer's bytes: the history as the catalogue encoded it when its file changed (a history may be tens of
    /// megabytes; it is not encoded again for every request), around the summary of the moment.
    static func response(_ run: RunRecord) throws -> Response {
        let pieces = [ByteBuffer(string: "{\"history\":"), run.historyJSON ?? ByteBuffer(string: "null"),
                      ByteBuffer(string: ",\"run\":"), try API.encoded(RunSummary(run)), ByteBuffer(string: "}")]
        return Response(status: .ok, headers: API.jsonHeaders, body: .init(contentsOf: pieces))
    }
}

/// `/api/runs/{id}/confusion`: counts[true][predicted] on the test set, each class's accuracy, and per class the
/// images the model gave no prediction (its outputs not finite: `Sequential.predictedClass(_:)`),
/// which are in no cell and count as wrong.
public struct ConfusionResult: Codable, Sendable {
    public let classes: [String]
    public let counts: [[Int]]
    public let accuracy: [Double]
    public let unpredicted: [Int]

    init(counts: [[Int]], classTotals: [Int]) {
        classes = FashionMNIST.classNames
        self.counts = counts
        unpredicted = counts.indices.map { classTotals[$0] - counts[$0].reduce(0, +) }
        accuracy = counts.indices.map { classTotals[$0] == 0 ? 0 : Double(counts[$0][$0]) / Double(classTotals[$0]) }
    }
}

/// `POST /api/predict`: the top 3 classes and the 28×28 image the model was given, as a PNG data URL.
public struct PredictResult: Codable, Sendable {
    public let run: String
    public let top: [ClassGuess]
    public let input: String
    public let pictureWidth: Int
    public let pictureHeight: Int
}

/// The handlers of `/api`: each reads the watcher's latest snapshot (never the disk, for the list) or asks the
/// model store, and answers JSON or SVG.
struct API: Sendable {
    let watcher: RunWatcher
    let models: ModelStore
    /// The largest upload `POST /api/predict` reads (bytes).
    let uploadLimit: Int

    static let chartNames = [RunDirectory.curvesChart, RunDirectory.weightsChart, RunDirectory.confusionChart, "confusion"]

    func runs() -> RunList {
        let snapshot = watcher.snapshot
        return RunList(runs: snapshot.runs.map(RunSummary.init), reports: snapshot.reports)
    }

    /// The run an id names, as of the last scan; 404 otherwise.
    func run(_ id: String) throws -> RunRecord {
        let components = try RunsFolder.components(of: id)
        guard let run = watcher.snapshot.run(components.joined(separator: "/")) else { throw ServeError(.notFound, "no such run: '\(id)'") }
        return run
    }

    /// `/api/runs/{id…}` and its charts, `/api/runs/{id…}/curves.svg` and so on.
    func runRoute(_ path: [Substring], words: DashboardWords) async throws -> Response {
        let names = try path.map { component -> String in
            guard let name = component.removingPercentEncoding else { throw ServeError(.badRequest, "bad percent-encoding in the path") }
            return name
        }
        if let last = names.last, Self.chartNames.contains(last), names.count > 1,
           let run = try? run(names.dropLast().joined(separator: "/")) {
            return try await chart(last, of: run, words: words)
        }
        let run = try run(names.joined(separator: "/"))
        return try RunDetail.response(run)
    }

    func chart(_ name: String, of run: RunRecord, words: DashboardWords) async throws -> Response {
        switch name {
        case RunDirectory.curvesChart:
            guard let history = run.history else { throw ServeError(.notFound, "\(run.id): \(run.problem ?? "no metrics")") }
            let report = RunForReport(label: run.components.last!, history: history, model: nil)
            return Self.svg(RunCharts.curves([report], title: history.config.chartTitle, words: words.chart))
        case RunDirectory.weightsChart:
            return Self.svg(try await models.weightsChart(run, words: words))
        case RunDirectory.confusionChart:
            return Self.svg(RunCharts.confusion(try await models.confusion(run).counts, title: words["confusionTitle"], words: words.chart))
        default:
            return try Self.json(try await models.confusion(run))
        }
    }

    /// `/api/compare.svg?run=A&run=B…`: the ticked runs' curves on one chart (at most 10).
    func compare(_ ids: [String], words: DashboardWords) throws -> Response {
        guard !ids.isEmpty else { throw ServeError(.badRequest, "give the runs to compare: /api/compare.svg?run=ID&run=ID") }
        guard ids.count <= 10 else { throw ServeError(.badRequest, "at most 10 runs can be compared at once, got \(ids.count)") }
        let reports = try ids.map { id -> RunForReport in
            let run = try run(id)
            guard let history = run.history else { throw ServeError(.notFound, "\(run.id): \(run.problem ?? "no metrics")") }
            return RunForReport(label: run.id, history: history, model: nil)
        }
        return Self.svg(RunCharts.curves(reports, title: words["compareTitle"], words: words.chart))
    }

    /// `POST /api/predict?run=ID`: the body is the picture itself, or a `multipart/form-data` form whose first file
    /// is. At most ``uploadLimit`` bytes are read (413 beyond); a picture larger than ``FashionImaging/ImageLimits``
    /// allows, or not a JPEG, PNG or PGM, gets 422.
    func predict(_ request: Request, context: some RequestContext) async throws -> Response {
        guard let id = request.uri.queryParameters["run"].map(String.init) else {
            throw ServeError(.badRequest, "say which run's model to use: POST /api/predict?run=ID")
        }
        let run = try run(id)
        if let announced = request.headers[.contentLength].flatMap({ Int($0) }), announced > uploadLimit {
            throw ServeError(.contentTooLarge, "the picture is larger than the \(uploadLimit >> 20) MB the server accepts (\(announced) bytes announced)")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: uploadLimit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw ServeError(.contentTooLarge, "the picture is larger than the \(uploadLimit >> 20) MB the server accepts")
        }
        var bytes = Array(buffer: body)
        if let type = request.headers[.contentType], type.lowercased().hasPrefix("multipart/form-data") {
            bytes = try Multipart.firstFile(in: bytes, contentType: type)
        }
        guard !bytes.isEmpty else { throw ServeError(.badRequest, "the request has no picture in it") }
        let result = try await models.classify(bytes, run: run)
        let png = PNG.encode(result.input)
        return try Self.json(PredictResult(run: run.id, top: result.top, input: "data:image/png;base64," + Data(png).base64EncodedString(),
                                           pictureWidth: result.picture.width, pictureHeight: result.picture.height))
    }

    // MARK: Responses

    static let jsonHeaders: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: jsonHeaders, body: .init(byteBuffer: try encoded(value)))
    }

    /// `value` as the API writes JSON: keys sorted, no spaces, NaN and infinities as "nan", "inf", "-inf".
    static func encoded(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try NonFiniteJSON.encoder([.sortedKeys]).encode(value))
    }

    static func svg(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "image/svg+xml; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
