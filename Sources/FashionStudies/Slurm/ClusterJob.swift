import FashionCore
import FashionData
import FashionEngine
import Foundation

/// A study or lab submitted to Slurm: the ``StudyLaunch`` with every run's whole configuration, and how its jobs
/// read the data and train (the data folder, the device, the threads a task).
///
/// ``submit(executable:options:)`` writes it as JSON into the jobs' folder, named by its SHA-256, beside the two
/// sbatch scripts; each job runs `fashionlab cluster-job FILE --sha256 DIGEST` with `--run-index N` (array task
/// N) or `--report-only` (the report job), and ``read(_:sha256:)`` refuses a file that changed since. What the
/// tasks train is therefore what the submitting command resolved, not flags typed again for them.
public struct ClusterJob: Codable, Sendable, Equatable {
    public var launch: StudyLaunch
    /// The data folder the jobs read (`--data`, absolute), or nil for the default search on the nodes.
    public var data: String?
    /// `cpu` or `cuda`: where each task trains.
    public var device: DeviceChoice
    /// Threads of each task (its CPUs).
    public var threads: Int

    /// Paths are made absolute here: the jobs start in another working directory.
    public init(launch: StudyLaunch, data: String?, device: DeviceChoice, threads: Int) {
        var launch = launch
        launch.out = Self.absolute(launch.out)
        self.launch = launch
        self.data = data.map(Self.absolute)
        self.device = device
        self.threads = threads
    }

    /// The folder of the scripts, the jobs' logs and this file: `OUT/NAME/slurm` for a study, `OUT/slurm` for the lab.
    public var directory: String {
        get throws {
            switch launch.kind {
            case .study: try launch.studies[0].outputDirectory(under: launch.out) + "/slurm"
            case .lab: launch.out + "/slurm"
            }
        }
    }

    /// The file's bytes: JSON with sorted keys, so the same job has the same digest.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// The file's path (`DIRECTORY/job-<the first 16 digits of its SHA-256>.json`, so a resubmission of other
    /// runs never rewrites the file that running tasks read), its digest and the scripts that run it.
    public func plan(executable: String, options: SlurmOptions) throws -> (file: String, sha256: String, script: SlurmScript) {
        let digest = SHA256.hexDigest(try encoded())
        let file = try directory + "/job-" + digest.prefix(16) + ".json"
        let command = [executable, "cluster-job", file, "--sha256", digest]
        let name = launch.kind == .lab ? "lab" : launch.studies[0].name
        let script = try SlurmScript(name: name, command: command, runCount: launch.distinctRuns.runs.count,
                                     logDirectory: try directory, options: options)
        return (file, digest, script)
    }

    /// Writes this file and the scripts into ``directory`` and submits them; when the submission fails, the file
    /// is removed with the scripts (``SlurmSubmitter/submit(_:directory:)``).
    public func submit(executable: String, options: SlurmOptions) throws -> SlurmSubmission {
        let (file, _, script) = try plan(executable: executable, options: options)
        _ = try SlurmSubmitter.tool("sbatch")  // without sbatch, nothing is written
        try AtomicFile.write(try encoded(), to: file)
        do {
            return try SlurmSubmitter.submit(script, directory: try directory)
        } catch {
            try? FileManager.default.removeItem(atPath: file)
            throw error
        }
    }

    /// Reads a job file, refusing one whose SHA-256 is not `sha256` (it changed since it was submitted, so its
    /// runs would not be the ones submitted) and one whose runs' settings are out of bounds.
    public static func read(_ path: String, sha256: String) throws -> ClusterJob {
        // The size is checked before anything is read: a job file is small, whatever the path names.
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular, let size = attributes[.size] as? Int
        else { throw ClusterJobError(path, "cannot be read (not a regular file)") }
        guard size <= maximumBytes else { throw ClusterJobError(path, "is \(size) bytes; a job file is at most \(maximumBytes)") }
        guard let data = FileManager.default.contents(atPath: path), data.count <= maximumBytes else {
            throw ClusterJobError(path, "cannot be read, or grew past \(maximumBytes) bytes while it was read")
        }
        let digest = SHA256.hexDigest(Array(data))
        guard digest == sha256.lowercased() else {
            throw ClusterJobError(path, "changed since it was submitted (SHA-256 \(digest), submitted \(sha256)); its runs would not be the ones submitted: submit the study again")
        }
        let job: ClusterJob
        do {
            job = try JSONDecoder().decode(ClusterJob.self, from: data)
        } catch {
            throw ClusterJobError(path, "is not a FashionLab job file (\(error))")
        }
        try job.launch.validate()
        guard (1...Threads.maximum).contains(job.threads) else {
            throw ClusterJobError(path, "asks for \(job.threads) threads; 1 to \(Threads.maximum) are possible")
        }
        return job
    }

    /// The largest job file read: the most runs a launch has (the lab with 100 seeds) take far less.
    static let maximumBytes = 16 << 20

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}

/// A job file that cannot be used; names the file.
public struct ClusterJobError: Error, CustomStringConvertible {
    public let file: String
    public let message: String
    public init(_ file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file) \(message)" }
}
