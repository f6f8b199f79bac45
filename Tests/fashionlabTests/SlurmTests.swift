import Foundation
import Testing
import FashionData
import FashionStudies
import FashionTestSupport

/// Why the Slurm tests cannot run here, or nil when a cluster answers (`sinfo` lists a node that can take jobs).
/// `.ci/run` starts a one-node cluster with `scripts/slurm-local.sh start`; anywhere else these tests are skipped.
let slurmUnavailable: String? = {
    guard dataAvailable else { return "the dataset is not in \(dataDirectory)" }
    guard FileManager.default.isExecutableFile(atPath: fashionlabBinary) else { return "the fashionlab binary is not built" }
    guard let sinfo = slurmTool("sinfo") else { return "Slurm is not installed (no sinfo on PATH)" }
    let states = try? runTool(sinfo, ["-h", "-o", "%t"], timeout: 20)
    guard let states, states.status == 0 else { return "sinfo fails: no Slurm cluster is running (scripts/slurm-local.sh start starts one, as root)" }
    guard states.output.contains("idle") || states.output.contains("mix") || states.output.contains("alloc") else {
        return "sinfo lists no node that can take jobs: \(states.output.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
    return nil
}()

func slurmTool(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// A run's numbers: each epoch of `metrics.json` without its times.
func epochNumbers(_ runDirectory: String) throws -> NSArray {
    let data = try Data(contentsOf: URL(fileURLWithPath: runDirectory + "/metrics.json"))
    let history = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let epochs = try #require(history["epochs"] as? [[String: Any]])
    return epochs.map { $0.filter { !$0.key.hasSuffix("Seconds") } } as NSArray
}

/// The tensors of a run's `model.safetensors`: the bytes after the header (whose metadata holds times).
func weightBytes(_ runDirectory: String) throws -> Data {
    let file = try Data(contentsOf: URL(fileURLWithPath: runDirectory + "/model.safetensors"))
    let headerLength = file.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    return file.dropFirst(8 + headerLength)
}

/// SHA-256 of the weights, as `sha256sum` prints it.
func weightsDigest(_ runDirectory: String) throws -> String {
    let path = TestFiles.newPath("weights")
    try weightBytes(runDirectory).write(to: URL(fileURLWithPath: path))
    let result = try runTool("/usr/bin/env", ["sha256sum", path], timeout: 30)
    return String(result.output.prefix(64))
}

/// The study of a file, for `--file`: a subset, a small hidden layer, so that tasks take seconds.
func studyFile(_ json: String) throws -> String {
    let path = TestFiles.newPath("study", extension: "json")
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// `study --slurm` against a real Slurm (a one-node cluster on this machine in CI): the report from the
/// cluster's runs has the numbers of the same study run here, bit for bit; a task cancelled mid-run continues
/// when the array is submitted again, to the weights of an uninterrupted run.
@Suite(.serialized, .enabled(if: slurmUnavailable == nil, "needs a Slurm cluster (sinfo answering: scripts/slurm-local.sh start, as root, starts one; .ci/run does), the dataset and the binary"))
struct SlurmTests {
    init() {
        if let slurmUnavailable { print("Slurm tests skipped: \(slurmUnavailable)") }
    }

    @Test func aStudyOnTheClusterReportsTheNumbersOfTheLocalStudy() throws {
        let file = try studyFile("""
            { "name": "cluster-four", "base": { "subset": 1000, "hidden": 32, "epochs": 2 },
              "grid": { "lr": [0.01, 0.1], "batch-size": [32, 64] } }
            """)
        let cluster = TestFiles.newDirectory("slurm-out"), local = TestFiles.newDirectory("local-out")
        let submitted = try runTool(fashionlabBinary, ["study", "--file", file, "--data", dataDirectory, "--out", cluster, "--slurm", "--wait"], timeout: 300)
        #expect(submitted.status == 0, "\(submitted.output)\n\(submitted.error)")
        #expect(submitted.output.contains("Submitted job array"), "\(submitted.output)")
        #expect(submitted.output.contains("(4 runs)"), "\(submitted.output)")
        // The report job's output, printed by --wait: a line per run and the findings.
        #expect(submitted.output.contains("cluster-four [4/4]"), "\(submitted.output)")
        #expect(submitted.output.contains("Wrote \(cluster)/cluster-four/report.html"), "\(submitted.output)")
        #expect(FileManager.default.fileExists(atPath: cluster + "/cluster-four/curves.svg"))

        let here = try runTool(fashionlabBinary, ["study", "--file", file, "--data", dataDirectory, "--out", local, "--threads", "1", "--quiet"], timeout: 300)
        #expect(here.status == 0, "\(here.error)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: local + "/runs").sorted()
        #expect(runs.count == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cluster + "/runs").sorted() == runs)
        for run in runs {
            #expect(try epochNumbers(cluster + "/runs/" + run) == epochNumbers(local + "/runs/" + run), "\(run): the same numbers")
            #expect(try weightBytes(cluster + "/runs/" + run) == weightBytes(local + "/runs/" + run), "\(run): the same weights")
        }
    }

    @Test func aTaskCancelledMidRunContinuesWhenTheArrayIsSubmittedAgain() throws {
        let file = try studyFile("""
            { "name": "cancelled", "base": { "subset": 20000, "hidden": 128, "epochs": 8 } }
            """)
        let cluster = TestFiles.newDirectory("slurm-cancel"), local = TestFiles.newDirectory("local-whole")
        let arguments = ["study", "--file", file, "--data", dataDirectory, "--out", cluster, "--slurm"]
        let first = try runTool(fashionlabBinary, arguments, timeout: 60)
        #expect(first.status == 0, "\(first.error)")
        let words = first.output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        let arrayJob = try #require(words.firstIndex(of: "array").map { String(words[$0 + 1]) })
        // "Submitted job array A (1 run) and report job R (after the array)."
        let reportJob = try #require(words.firstIndex(of: "report").map { String(words[$0 + 2]) })
        #expect(arrayJob.allSatisfy(\.isNumber) && reportJob.allSatisfy(\.isNumber) && arrayJob != reportJob, "\(first.output)")

        // Cancel the task once its first epoch's checkpoint is written.
        let deadline = Date().addingTimeInterval(180)
        var runDirectory: String?
        while Date() < deadline {
            if let name = try? FileManager.default.contentsOfDirectory(atPath: cluster + "/runs").first,
               FileManager.default.fileExists(atPath: cluster + "/runs/" + name + "/checkpoint.safetensors") {
                runDirectory = cluster + "/runs/" + name
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let directory = try #require(runDirectory, "the task wrote no checkpoint in 180 s")
        let cancelled = try runTool(try #require(slurmTool("scancel")), [arrayJob], timeout: 30)
        #expect(cancelled.status == 0, "\(cancelled.error)")

        // The report job still runs (afterany) and fails, naming the unfinished run.
        let scontrol = try #require(slurmTool("scontrol"))
        var state = ""
        while Date() < deadline {
            let shown = try runTool(scontrol, ["show", "job", "-o", reportJob], timeout: 30)
            state = shown.output.split(separator: " ").first { $0.hasPrefix("JobState=") }.map { String($0.dropFirst(9)) } ?? ""
            if ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].contains(state) { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(state == "FAILED")
        let log = (try? String(contentsOfFile: cluster + "/cancelled/slurm/report-\(reportJob).out", encoding: .utf8)) ?? ""
        #expect(log.contains("1 run has not finished") && log.contains(directory), "\(log)")
        // Interrupted for real: a checkpoint of some epochs, no finished run.
        let interrupted = try epochNumbers(directory).count
        #expect(interrupted >= 1 && interrupted < 8, "cancelled after \(interrupted) epochs")
        print("Cancelled after \(interrupted) complete epoch(s) of 8")

        let again = try runTool(fashionlabBinary, arguments + ["--wait"], timeout: 300)
        #expect(again.status == 0, "\(again.output)\n\(again.error)")
        #expect(try epochNumbers(directory).count == 8)
        let taskLogs = try FileManager.default.contentsOfDirectory(atPath: cluster + "/cancelled/slurm").filter { $0.hasPrefix("run-") }
        #expect(taskLogs.count == 2, "one log per submission: \(taskLogs)")

        let whole = try runTool(fashionlabBinary, ["study", "--file", file, "--data", dataDirectory, "--out", local, "--threads", "1", "--quiet"], timeout: 300)
        #expect(whole.status == 0, "\(whole.error)")
        let name = (directory as NSString).lastPathComponent
        let resumed = try weightsDigest(directory), uninterrupted = try weightsDigest(local + "/runs/" + name)
        print("Weights SHA-256 after cancel and resubmit: \(resumed); uninterrupted: \(uninterrupted)")
        #expect(resumed == uninterrupted)
        #expect(try epochNumbers(directory) == epochNumbers(local + "/runs/" + name))
    }

    @Test func aSubmissionSbatchRefusesGetsItsMessageAndLeavesNothing() throws {
        let out = TestFiles.newDirectory("refused")
        let result = try runTool(fashionlabBinary, ["study", "scaling", "--out", out, "--slurm", "--partition", "nosuch"], timeout: 60)
        #expect(result.status != 0 && !result.crashed)
        #expect(result.error.contains("sbatch refused the job array (exit status 1): sbatch: error: invalid partition specified: nosuch"), "\(result.error)")
        #expect(result.error.contains("Batch job submission failed: Invalid partition name specified"), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: out + "/scaling/slurm/runs.sbatch"))
        #expect(!FileManager.default.fileExists(atPath: out + "/scaling/slurm/report.sbatch"))
    }
}

/// `--slurm`'s flags and a missing Slurm, with no cluster needed.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the binary"))
struct SlurmFlagTests {
    @Test func withoutSbatchTheSubmissionSaysSoAndWritesNothing() throws {
        let out = TestFiles.newDirectory("no-sbatch")
        let result = try runTool(fashionlabBinary, ["study", "scaling", "--out", out, "--slurm"], environment: ["PATH": "/nonexistent"], timeout: 60)
        #expect(result.status != 0 && !result.crashed)
        #expect(result.error.contains("sbatch was not found on PATH (/nonexistent): --slurm needs Slurm's commands"), "\(result.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }

    @Test(arguments: [
        (["study", "scaling", "--slurm", "--cpus-per-run", "0"], "--cpus-per-run must be 1 to 1024, got 0"),
        (["study", "scaling", "--slurm", "--throttle", "0"], "--throttle must be at least 1"),
        (["study", "scaling", "--slurm", "--time", "90 minutes"], "--time '90 minutes' is not a time sbatch accepts"),
        (["study", "scaling", "--slurm", "--mem", "lots"], "--mem 'lots' is not an amount of memory"),
        (["study", "scaling", "--slurm", "--gpus-per-run", "1", "--device", "cpu"], "--gpus-per-run 1 asks for GPUs but --device cpu"),
        (["study", "scaling", "--slurm", "--device", "cuda"], "--device cuda with --slurm needs GPUs on the cluster: add --gpus-per-run N"),
        (["study", "scaling", "--slurm", "--threads", "2"], "--threads 2 does not go with --slurm"),
        (["study", "scaling", "--slurm", "--wait", "--dry-run"], "--dry-run submits nothing"),
        (["study", "scaling", "--slurm", "--sbatch-arg", "--comment=two words"], "contains a space"),
        (["study", "scaling", "--slurm", "--sbatch-arg", "--array=1"], "is set by FashionLab itself"),
        (["study", "scaling", "--slurm", "--sbatch-arg", "-o/tmp/elsewhere"], "is set by FashionLab itself"),
        (["study", "scaling", "--slurm", "--sbatch-arg", "-a0-99"], "is set by FashionLab itself"),
        (["study", "scaling", "--slurm", "--sbatch-arg", "--arr=0-99"], "is set by FashionLab itself"),
        (["study", "scaling", "--partition", "gpu"], "--partition applies to --slurm"),
        (["lab", "--wait"], "--wait applies to --slurm"),
        (["lab", "--slurm", "--parallel-runs", "2"], "--parallel-runs 2 trains runs side by side here"),
        (["study", "scaling", "--run-index", "2"], "--run-index 2 is out of range: the study has 2 distinct runs (0…1)"),
        (["study", "scaling", "--run-index", "0", "--report-only"], "give one of them"),
        (["study", "scaling", "--slurm", "--report-only"], "--report-only writes the report here"),
    ])
    func badFlagsAreRefusedNamingTheFlag(_ arguments: [String], _ message: String) throws {
        let out = TestFiles.newDirectory("bad-slurm-flags")
        let result = try runTool(fashionlabBinary, arguments + ["--out", out], timeout: 60)
        #expect(result.status != 0 && !result.crashed)
        #expect(result.error.contains(message), "\(result.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }

    /// A job file is read back only as submitted: one changed since (here its epochs) is refused by its digest,
    /// and one whose digest was given for hostile contents is refused by the settings' bounds.
    @Test func aJobRefusesAJobFileChangedSinceSubmissionOrOutOfBounds() throws {
        let out = TestFiles.newDirectory("changed")
        var study = BuiltinStudies.scaling.withEpochs(1)
        let job = ClusterJob(launch: StudyLaunch(study: study, out: out, language: .english), data: nil, device: .cpu, threads: 1)
        let (file, digest, _) = try job.plan(executable: fashionlabBinary, options: SlurmOptions())
        try FileManager.default.createDirectory(atPath: try job.directory, withIntermediateDirectories: true)
        study.runs[0].config.epochs = 2
        let changed = ClusterJob(launch: StudyLaunch(study: study, out: out, language: .english), data: nil, device: .cpu, threads: 1)
        try Data(try changed.encoded()).write(to: URL(fileURLWithPath: file))
        let result = try runTool(fashionlabBinary, ["cluster-job", file, "--sha256", digest, "--run-index", "0"], timeout: 60)
        #expect(result.status != 0 && !result.crashed)
        #expect(result.error.contains("\(file) changed since it was submitted"), "\(result.error)")

        study.runs[0].config.epochs = 0
        let hostile = try ClusterJob(launch: StudyLaunch(study: study, out: out, language: .english), data: nil, device: .cpu, threads: 1).encoded()
        try Data(hostile).write(to: URL(fileURLWithPath: file))
        let refused = try runTool(fashionlabBinary, ["cluster-job", file, "--sha256", SHA256.hexDigest(hostile), "--report-only"], timeout: 60)
        #expect(refused.status != 0 && !refused.crashed)
        #expect(refused.error.contains("scaling: unscaled") && refused.error.contains("epochs"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: out + "/runs"), "nothing trained")
    }

    /// A GPU study's tasks train with `--device cuda` (here the host emulation of the GPU code paths); its
    /// report job reads their `-cuda` run directories with `--device cuda --report-only` on a machine without a GPU.
    @Test(.enabled(if: dataAvailable, "needs the dataset"))
    func aGPUStudysReportJobNeedsNoGPU() throws {
        let file = try studyFile(#"{ "name": "gpu-report", "base": { "subset": 200, "hidden": 8, "epochs": 1 } }"#)
        let out = TestFiles.newDirectory("gpu-report")
        let common = ["study", "--file", file, "--data", dataDirectory, "--out", out, "--device", "cuda", "--threads", "1"]
        let task = try runTool(fashionlabBinary, common + ["--run-index", "0"], environment: ["FASHIONLAB_CUDA_EMULATION": "1"], timeout: 300)
        #expect(task.status == 0, "\(task.error)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: out + "/runs")
        #expect(runs.count == 1 && runs[0].hasSuffix("-cuda"), "\(runs)")
        let report = try runTool(fashionlabBinary, common + ["--report-only"], environment: ["FASHIONLAB_CUDA_EMULATION": "0"], timeout: 120)
        #expect(report.status == 0, "\(report.error)")
        #expect(report.output.contains("Wrote \(out)/gpu-report/report.html"), "\(report.output)")
        #expect(!report.error.contains("CUDA is not available"), "\(report.error)")
    }

    @Test func aDryRunPrintsTheGPUScriptAndSubmitsNothing() throws {
        let out = TestFiles.newDirectory("dry-run")
        let result = try runTool(fashionlabBinary, ["study", "learning-rate", "--out", out, "--slurm", "--dry-run", "--gpus-per-run", "1",
                                                    "--partition", "gpu", "--time", "0:30:00", "--mem", "8G", "--throttle", "2"],
                                 environment: ["PATH": "/nonexistent"], timeout: 60)
        #expect(result.status == 0, "\(result.error)")
        for line in ["#SBATCH --array=0-2%2", "#SBATCH --gres=gpu:1", "#SBATCH --partition=gpu", "#SBATCH --time=0:30:00", "#SBATCH --mem=8G",
                     "#SBATCH --output=\(out)/learning-rate/slurm/run-%A_%a.out", "cluster-job \(out)/learning-rate/slurm/job-",
                     #""device" : "cuda""#, "--run-index \"$SLURM_ARRAY_TASK_ID\"", "--report-only"] {
            #expect(result.output.contains(line), "\(line)\n\(result.output)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty, "nothing written")
    }
}
