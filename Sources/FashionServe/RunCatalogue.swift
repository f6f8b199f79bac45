import Foundation
import FashionCore
import FashionEngine
import FashionTraining
import NIOCore

/// Where a run stands.
public enum RunStatus: String, Codable, Sendable {
    /// Its directory is locked by a FashionLab process training it now.
    case running
    /// Every epoch done (or stopped early by its rule), not diverged.
    case finished
    /// Its loss became NaN or infinite; training stopped.
    case diverged
    /// Stopped before its last epoch (Ctrl-C, or the process ended) and nobody is training it.
    case interrupted
    /// Its `metrics.json` cannot be read (the reason is given).
    case unreadable
    /// A model with no training history: a folder holding only `model.safetensors` or `model.onnx` (an export, or a
    /// model from PyTorch).
    case model
}

/// One run directory under the runs folder, as last read.
public struct RunRecord: Sendable {
    /// The path under the runs folder, "lab/runs/adam-lr0.001-…": the run's name in URLs.
    public let id: String
    public let components: [String]
    public let history: TrainingHistory?
    /// The history as `/api/runs/{id}` sends it: encoded once when the file changes, not for every request.
    let historyJSON: ByteBuffer?
    /// Why the history cannot be read.
    public let problem: String?
    public let status: RunStatus
    /// When `metrics.json` (or the checkpoint) last changed.
    public let updated: Date
    /// The newer of `model.safetensors` and `checkpoint.safetensors`, if any; in a folder with no history, its
    /// `model.safetensors` or else `model.onnx`: what predict and the weight charts use.
    public let modelFile: String?
    /// True when the run has its own `report.html` (a run of `fashionlab train` that ended).
    public let hasReport: Bool
    /// Changes whenever something a page shows changes (file times and sizes, the lock).
    let signature: String
}

/// A study's or lab's report found under the runs folder (`NAME/report.html`, `lab/index.html`).
public struct ReportRecord: Sendable, Codable, Equatable {
    public let id: String
    public let file: String
}

/// What the folder holds at one moment.
public struct CatalogueSnapshot: Sendable {
    public var runs: [RunRecord] = []
    public var reports: [ReportRecord] = []

    public func run(_ id: String) -> RunRecord? { runs.first { $0.id == id } }
}

/// Finds the runs under the runs folder: any directory holding `metrics.json` or `checkpoint.safetensors` (as
/// `train`, `study` and `lab` write them), or only a model (`model.safetensors` or `model.onnx`, without a history), reading each run's history with the project's own loader only when its
/// files changed since the last scan.
public final class RunCatalogue: @unchecked Sendable {
    public let folder: RunsFolder
    /// At most this many runs are listed (a folder with more is shown in part).
    public static let maxRuns = 2_000
    /// The largest history the server decodes, `metrics.json` or a checkpoint's: 32 MB. A run writes ≈ 330 bytes an
    /// epoch and ≈ 100 a `--log-every` step, so this holds the 100,000 epochs a run may have, or 300,000 logged steps
    /// (every step of 160 epochs at batch size 32 with `--log-every 1`). A larger one is never read: its run is
    /// listed as unreadable, saying which file and the limit.
    public static let maxHistoryBytes = 32 << 20
    private let lock = NSLock()
    private var cache: [String: (key: String, history: TrainingHistory?, json: ByteBuffer?, problem: String?)] = [:]

    public init(folder: RunsFolder) { self.folder = folder }

    /// Walks the folder (links are never followed; names that fail `PathName` are skipped) and reads what changed.
    public func scan() -> CatalogueSnapshot {
        var snapshot = CatalogueSnapshot()
        let held = LockProbe.heldLocks()
        var visited = 0
        func walk(_ components: [String]) {
            guard components.count <= RunsFolder.maxDepth, snapshot.runs.count < Self.maxRuns, visited < 20_000 else { return }
            let entries = folder.entries(components)
            visited += entries.count
            let files = Dictionary(entries.filter { !$0.isDirectory }.map { ($0.name, $0.info) }, uniquingKeysWith: { a, _ in a })
            if !components.isEmpty, [RunDirectory.metricsFile, RunDirectory.checkpointFile, RunDirectory.modelFile, RunDirectory.onnxFile].contains(where: { files[$0] != nil }) {
                snapshot.runs.append(record(components, files: files, held: held))
                return  // a run's directory holds no further runs
            }
            if !components.isEmpty, let file = [RunDirectory.labPage, RunDirectory.reportPage].first(where: { files[$0] != nil }) {
                snapshot.reports.append(ReportRecord(id: components.joined(separator: "/"), file: file))
            }
            for entry in entries where entry.isDirectory { walk(components + [entry.name]) }
        }
        walk([])
        let ids = Set(snapshot.runs.map(\.id))
        lock.withLock { cache = cache.filter { ids.contains($0.key) } }
        return snapshot
    }

    private func record(_ components: [String], files: [String: stat], held: Set<String>?) -> RunRecord {
        let id = components.joined(separator: "/")
        let metrics = files[RunDirectory.metricsFile], checkpoint = files[RunDirectory.checkpointFile]
        if metrics == nil, checkpoint == nil,
           let file = [RunDirectory.modelFile, RunDirectory.onnxFile].first(where: { files[$0] != nil }), let info = files[file] {
            return RunRecord(id: id, components: components, history: nil, historyJSON: nil, problem: nil, status: .model,
                             updated: Date(timeIntervalSince1970: Self.seconds(info)), modelFile: file,
                             hasReport: files[RunDirectory.reportPage] != nil, signature: "model:\(file):" + Self.stamp(info))
        }
        let model = files[RunDirectory.modelFile]
        let source = metrics != nil ? RunDirectory.metricsFile : RunDirectory.checkpointFile
        let sourceInfo = (metrics ?? checkpoint)!
        let key = "\(source):\(Self.stamp(sourceInfo))"
        let (history, historyJSON, problem) = readHistory(components, id: id, source: source, key: key)
        // The lock's name is hidden (a leading '.'), so it is not among `files`: looked up by itself, not followed.
        let running = folder.info(components, LockProbe.lockFile).map {
            LockProbe.isHeld($0, path: folder.root + "/" + id + "/" + LockProbe.lockFile, held: held)
        } ?? false
        let status: RunStatus = if running { .running }
            else if let history { history.diverged ? .diverged : (history.isFinished && !history.interrupted ? .finished : .interrupted) }
            else { .unreadable }
        // The model a page shows: whichever of the final weights and the last checkpoint is newer.
        let modelFile: String? = switch (model, checkpoint) {
        case let (m?, c?): Self.seconds(m) >= Self.seconds(c) ? RunDirectory.modelFile : RunDirectory.checkpointFile
        case (.some, nil): RunDirectory.modelFile
        case (nil, .some): RunDirectory.checkpointFile
        case (nil, nil): nil
        }
        let signature = [key, model.map(Self.stamp) ?? "-", checkpoint.map(Self.stamp) ?? "-", running ? "running" : "idle"].joined(separator: "|")
        return RunRecord(id: id, components: components, history: history, historyJSON: historyJSON, problem: problem, status: status,
                         updated: Date(timeIntervalSince1970: Self.seconds(sourceInfo)), modelFile: modelFile,
                         hasReport: files[RunDirectory.reportPage] != nil, signature: signature)
    }

    /// The run's history from `metrics.json`, or from the checkpoint's metadata when there is no `metrics.json` yet,
    /// and its JSON for the API; read again only when the file's time or size changed.
    private func readHistory(_ components: [String], id: String, source: String, key: String) -> (TrainingHistory?, ByteBuffer?, String?) {
        if let cached = lock.withLock({ cache[id] }), cached.key == key { return (cached.history, cached.json, cached.problem) }
        var history: TrainingHistory?, problem: String?
        let name = id + "/" + source
        do {
            if source == RunDirectory.metricsFile {
                history = try RunDirectory.decodeHistory(Data(folder.read(components, source, limit: Self.maxHistoryBytes)), path: name)
            } else {
                let file = try Safetensors.parse(folder.read(components, source), name: name)
                guard let text = file.metadata["history"] else { throw ServeError(.notFound, "\(name): no history in its metadata") }
                guard text.utf8.count <= Self.maxHistoryBytes else {
                    throw ServeError(.unprocessableContent, "\(name): its metadata 'history' is \(RunsFolder.megabytes(text.utf8.count)), more than the \(RunsFolder.megabytes(Self.maxHistoryBytes)) fashionlab serve reads of it")
                }
                history = try RunDirectory.decodeHistory(Data(text.utf8), path: name + " (metadata 'history')")
            }
        } catch {
            problem = "\(error)"
        }
        let json = history.flatMap { try? API.encoded($0) }
        lock.withLock { cache[id] = (key, history, json, problem) }
        return (history, json, problem)
    }

    /// Modification time (nanoseconds) and size: what changes when a file is replaced.
    static func stamp(_ info: stat) -> String {
        "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_size)"
    }

    static func seconds(_ info: stat) -> Double {
        Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }
}
