/// The runs a set of studies trains, each once: what a Slurm job array's task N trains (``runs``[N]).
///
/// Studies that share a run (the same configuration: the lab's studies do) train it once, as the local
/// runner does through their shared run directory; the runs come longest first, as the local lab orders
/// them, so the tasks that start first are the ones that take longest. Built from the same ``Study`` values
/// that a local run, an array task and the report job use, so all three see the same list.
public struct ClusterRuns {
    /// The distinct runs, in task order.
    public let runs: [StudyRun]

    public init(_ studies: [Study]) {
        var distinct: [StudyRun] = []
        for study in studies {
            for run in study.runs where !distinct.contains(where: { Self.sameRun($0, run) }) {
                distinct.append(run)
            }
        }
        // A stable sort: equal epochs keep study order.
        runs = distinct.enumerated()
            .sorted { ($0.element.config.epochs, -$0.offset) > ($1.element.config.epochs, -$1.offset) }
            .map(\.element)
    }

    /// The run of array task `index`; the error names the flag and the valid range.
    public func run(at index: Int) throws -> StudyRun {
        guard runs.indices.contains(index) else {
            throw SlurmOptionError(flag: "--run-index", message: "\(index) is out of range: the study has \(runs.count) distinct run\(runs.count == 1 ? "" : "s") (0…\(runs.count - 1))")
        }
        return runs[index]
    }

    /// Two runs train the same thing (and share a directory) when everything but their label is equal.
    static func sameRun(_ a: StudyRun, _ b: StudyRun) -> Bool {
        a.config == b.config && a.normalize == b.normalize && a.split == b.split
    }
}
