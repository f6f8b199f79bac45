import Foundation
import Testing
import FashionCore
import FashionStudies
import FashionTraining
import FashionTestSupport

/// The Slurm scripts, the checks of the flags that reach them, and the run list their tasks index: none of
/// it needs Slurm (the real cluster's tests are `fashionlabTests/SlurmTests`).
@Suite struct SlurmScriptTests {
    let command = ["/opt/fashionlab/bin/fashionlab", "study", "scaling", "--out", "/shared/studies", "--device", "cpu", "--threads", "1"]

    @Test func theArrayHasOneTaskPerRunAndTheOptionsMapOntoSbatch() throws {
        var options = SlurmOptions()
        options.partition = "gpu"
        options.time = "1-02:00:00"
        options.cpusPerRun = 4
        options.gpusPerRun = 1
        options.memory = "8G"
        options.throttle = 3
        options.extraArguments = ["--account=lab", "--qos=short"]
        let script = try SlurmScript(name: "scaling", command: command, runCount: 5, logDirectory: "/shared/studies/scaling/slurm", options: options)
        let directives = script.array.split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }.map { String($0.dropFirst(8)) }
        #expect(directives == ["--job-name=fashionlab-scaling", "--array=0-4%3", "--output=/shared/studies/scaling/slurm/run-%A_%a.out",
                               "--cpus-per-task=4", "--gres=gpu:1", "--partition=gpu", "--time=1-02:00:00", "--mem=8G",
                               "--requeue", "--open-mode=append", "--account=lab", "--qos=short"])
        #expect(script.array.hasPrefix("#!/bin/bash\n"))
        #expect(script.array.contains("exec /opt/fashionlab/bin/fashionlab study scaling \\\n  --out /shared/studies \\\n"))
        #expect(script.array.hasSuffix("--run-index \"$SLURM_ARRAY_TASK_ID\"\n"))
        // The report job: no array, no GPU, the same partition, time, memory and extra options.
        let reportDirectives = script.report.split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }.map { String($0.dropFirst(8)) }
        #expect(reportDirectives == ["--job-name=fashionlab-scaling-report", "--output=/shared/studies/scaling/slurm/report-%j.out",
                                     "--cpus-per-task=1", "--partition=gpu", "--time=1-02:00:00", "--mem=8G", "--account=lab", "--qos=short"])
        #expect(script.report.hasSuffix("--threads 1 \\\n  --report-only\n"))
    }

    @Test func withoutAThrottleEveryTaskMayRun() throws {
        let script = try SlurmScript(name: "one", command: command, runCount: 1, logDirectory: "/tmp/x", options: SlurmOptions())
        #expect(script.array.contains("#SBATCH --array=0-0\n"))
        #expect(!script.array.contains("--gres"))
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("/a/b-c_d.e:f=g,h+i@j", "/a/b-c_d.e:f=g,h+i@j"),
        ("", "''"),
        ("two words", "'two words'"),
        ("it's", #"'it'\''s'"#),
        ("$(rm -rf /)", "'$(rm -rf /)'"),
        ("`id`;x&y|z>w<v", "'`id`;x&y|z>w<v'"),
        ("a\nb", "'a\nb'"),
        ("*?[]~#!%", "'*?[]~#!%'"),
    ])
    func argumentsAreQuotedForTheShell(_ text: String, _ quoted: String) throws {
        #expect(SlurmScript.shellQuoted(text) == quoted)
        // And the shell reads back exactly the text.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf %s " + SlurmScript.shellQuoted(text)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(String(decoding: output, as: UTF8.self) == text)
    }

    @Test func aHostileStudyNameNeverReachesTheShellOrADirective() throws {
        let name = "x'; rm -rf ~; echo '$(id)\nevil"
        let script = try SlurmScript(name: name, command: ["/bin/fashionlab", "study", name], runCount: 2, logDirectory: "/tmp/out", options: SlurmOptions())
        #expect(script.array.contains("#SBATCH --job-name=fashionlab-x___rm_-rf____echo____id__evil\n"))
        #expect(script.array.contains(#"exec /bin/fashionlab study 'x'\''; rm -rf ~; echo '\''$(id)"#))
    }

    @Test(arguments: [
        ("cpusPerRun", "0", "--cpus-per-run must be 1 to 1024, got 0"),
        ("gpusPerRun", "-1", "--gpus-per-run must be 0 to 64, got -1"),
        ("throttle", "0", "--throttle must be at least 1"),
        ("time", "1:2:3:4", "--time '1:2:3:4' is not a time sbatch accepts"),
        ("time", "an hour", "--time 'an hour' is not a time sbatch accepts"),
        ("time", "0", "--time '0' is not a time sbatch accepts"),
        ("memory", "4GB", "--mem '4GB' is not an amount of memory"),
        ("memory", "0", "--mem '0' is not an amount of memory"),
        ("partition", "gpu\n#SBATCH --x", "--partition "),
        ("partition", "", "--partition '' is not a partition name"),
        ("extraArguments", "account=lab", "--sbatch-arg 'account=lab' is not an sbatch option"),
        ("extraArguments", "--comment=a b", "contains a space"),
        ("extraArguments", "--comment=a\nexec rm", "contains a newline"),
        ("extraArguments", "--comment='x'", "contains a quote"),
        ("extraArguments", "--array=0-99", "is set by FashionLab itself"),
        ("extraArguments", "-o", "is set by FashionLab itself"),
    ])
    func badOptionsAreRefusedNamingTheFlag(_ field: String, _ value: String, _ message: String) {
        var options = SlurmOptions()
        switch field {
        case "cpusPerRun": options.cpusPerRun = Int(value)!
        case "gpusPerRun": options.gpusPerRun = Int(value)!
        case "throttle": options.throttle = Int(value)!
        case "time": options.time = value
        case "memory": options.memory = value
        case "partition": options.partition = value
        default: options.extraArguments = [value]
        }
        let error = #expect(throws: SlurmOptionError.self) { try options.validate() }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
    }

    /// sbatch's getopt reads a short option's letters one by one: `-Ho/x` is `--hold`, then `--output=/x`, which
    /// would override the log path FashionLab writes. Every managed option behind any of sbatch's flags that take
    /// no value, and `--` (the end of options), is refused; the long form and single letters still pass.
    @Test func shortOptionClustersCannotReachAManagedOption() throws {
        let flagsWithoutValue = ["H", "O", "Q", "s", "v", "V", "W", "vv", "Hv"]
        let managedLetters = ["a", "o", "e", "J", "c", "G", "t", "p", "d", "D"]  // --array, --output, …, --chdir
        for flags in flagsWithoutValue {
            for letter in managedLetters {
                var options = SlurmOptions()
                options.extraArguments = ["-" + flags + letter + "/tmp/elsewhere"]
                #expect(throws: SlurmOptionError.self, "\(options.extraArguments)") { try options.validate() }
            }
        }
        var ends = SlurmOptions()
        ends.extraArguments = ["--"]
        #expect(throws: SlurmOptionError.self) { try ends.validate() }
        var fine = SlurmOptions()
        fine.extraArguments = ["--account=lab", "--qos=short", "-H", "--comment=a,b"]
        try fine.validate()
    }

    @Test(arguments: ["60", "30:00", "2:00:00", "1-0", "1-12:30", "7-00:00:00", "UNLIMITED"])
    func sbatchTimeFormatsAreAccepted(_ time: String) throws {
        var options = SlurmOptions()
        options.time = time
        try options.validate()
    }

    @Test(arguments: ["/tmp/my runs", "/tmp/100%", "/tmp/exp#2", "/tmp/a\"b", "/tmp/a\\b", "/tmp/x\ny"])
    func anOutputFolderSbatchCannotNameIsRefused(_ path: String) {
        let error = #expect(throws: SlurmOptionError.self) {
            _ = try SlurmScript(name: "s", command: command, runCount: 1, logDirectory: path, options: SlurmOptions())
        }
        #expect(error?.flag == "--out")
    }

    @Test func theLabIsTwelveTasksAndSharedRunsAreOneTask() throws {
        #expect(ClusterRuns(BuiltinStudies.lab).runs.count == 12)
        // One epoch each: the scaling study's scaled run and the optimizer study's SGD run become the same run,
        // and so do batch 32 and Adam.
        #expect(ClusterRuns(BuiltinStudies.lab.map { $0.withEpochs(1) }).runs.count == 10)
        // The longest first.
        let runs = ClusterRuns(BuiltinStudies.lab).runs
        #expect(runs.prefix(2).allSatisfy { $0.config.epochs == 10 })
        #expect(ClusterRuns([BuiltinStudies.scaling.withSeeds([0, 1, 2])]).runs.count == 6)
        #expect(throws: SlurmOptionError.self) { _ = try ClusterRuns(BuiltinStudies.lab).run(at: 12) }
    }

    @Test func theReportNamesEveryRunThatHasNotFinishedAndTrainsNothing() throws {
        let out = TestFiles.newDirectory("report-only")
        let runner = StudyRunner(train: bandDataset(count: 64, seed: 1), test: bandDataset(count: 16, seed: 2), runsDirectory: out + "/runs")
        var study = StudyNameTests.tinyStudy(named: "two")
        var second = study.runs[0]
        second.label = "two"
        second.config.seed = 7
        study.runs.append(second)
        let missing = #expect(throws: UnfinishedRuns.self) { _ = try runner.finishedResults([study]) }
        #expect(missing?.runs.count == 2)
        #expect(missing?.description.contains("two: 'one' in \(out)/runs/") == true)
        let made = (try? FileManager.default.contentsOfDirectory(atPath: out + "/runs")) ?? []
        #expect(made.isEmpty, "nothing trained: \(made)")

        // Train run 1 as its task does: the report still names run 0 only.
        _ = try runner.train(ClusterRuns([study]).run(at: 1))
        let stillMissing = #expect(throws: UnfinishedRuns.self) { _ = try runner.finishedResults([study]) }
        #expect(stillMissing?.runs.count == 1)
        #expect(stillMissing?.runs.first?.contains("'one'") == true)

        _ = try runner.train(ClusterRuns([study]).run(at: 0))
        let results = try runner.finishedResults([study])
        // The same numbers as the local runner finds.
        let local = try runner.run(study)
        #expect(results[0].runs.map(\.history.epochs.last?.validationAccuracy) == local.runs.map(\.history.epochs.last?.validationAccuracy))
        #expect(local.runs.allSatisfy { $0.reused })
    }
}
