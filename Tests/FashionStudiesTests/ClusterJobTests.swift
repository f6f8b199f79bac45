import FashionData
import FashionEngine
import FashionStudies
import FashionTestSupport
import Foundation
import Testing

/// A Slurm submission's job file: what the tasks train is what the submitting command resolved, read back only as
/// it was written.
@Suite struct ClusterJobTests {
    func job(_ launch: StudyLaunch, device: DeviceChoice = .cpu) -> ClusterJob {
        ClusterJob(launch: launch, data: "data", device: device, threads: 2)
    }

    @Test func aJobFileReadsBackAsWrittenWithItsPathsMadeAbsolute() throws {
        let out = TestFiles.newDirectory("job")
        var study = BuiltinStudies.learningRate.withEpochs(3).withSeeds([4, 5])
        study.runs[1].split = .fraction(0.1)
        let written = job(StudyLaunch(study: study, out: out + "/./sub/..", language: .vietnamese), device: .cuda)
        #expect(written.launch.out == out && written.data == FileManager.default.currentDirectoryPath + "/data")
        let (file, digest, script) = try written.plan(executable: "/opt/fashionlab", options: SlurmOptions())
        #expect(file.hasPrefix(out + "/learning-rate/slurm/job-") && file.hasSuffix(".json"))
        #expect(script.array.contains("exec /opt/fashionlab cluster-job \(file) \\\n  --sha256 \(digest) \\\n  --run-index \"$SLURM_ARRAY_TASK_ID\""), "\(script.array)")
        #expect(script.report.contains("exec /opt/fashionlab cluster-job \(file) \\\n  --sha256 \(digest) \\\n  --report-only"), "\(script.report)")
        #expect(script.array.contains("--array=0-\(study.runs.count - 1)"))
        try FileManager.default.createDirectory(atPath: try written.directory, withIntermediateDirectories: true)
        try Data(try written.encoded()).write(to: URL(fileURLWithPath: file))
        let read = try ClusterJob.read(file, sha256: digest.uppercased())
        #expect(read == written)
        #expect(read.launch.language.code == "vi" && read.launch.distinctRuns.runs.count == study.runs.count)
    }

    @Test func aChangedOrHostileJobFileIsRefusedNamingIt() throws {
        let out = TestFiles.newDirectory("job")
        let file = out + "/job.json"
        func refusal(_ bytes: [UInt8], digest: String? = nil) -> String {
            try! Data(bytes).write(to: URL(fileURLWithPath: file))
            do {
                _ = try ClusterJob.read(file, sha256: digest ?? SHA256.hexDigest(bytes))
                return "read"
            } catch {
                return "\(error)"
            }
        }
        let good = try job(StudyLaunch(study: BuiltinStudies.scaling, out: out, language: .english)).encoded()
        #expect(refusal(good) == "read")
        #expect(refusal(good, digest: String(repeating: "a", count: 64)).contains("\(file) changed since it was submitted"))
        #expect(refusal(Array("[1, 2]".utf8)).contains("\(file) is not a FashionLab job file"))
        // A huge file is refused on its size, before it is read (a sparse 1 GB file here).
        let huge = out + "/huge.json"
        FileManager.default.createFile(atPath: huge, contents: nil)
        try FileHandle(forWritingTo: URL(fileURLWithPath: huge)).truncate(atOffset: 1 << 30)
        #expect(throws: ClusterJobError.self) { try ClusterJob.read(huge, sha256: String(repeating: "a", count: 64)) }
        #expect((try? ClusterJob.read(out, sha256: String(repeating: "a", count: 64))) == nil, "a directory is not a job file")

        var twoStudies = job(StudyLaunch(study: BuiltinStudies.scaling, out: out, language: .english))
        twoStudies.launch.studies.append(BuiltinStudies.optimizer)
        #expect(refusal(try twoStudies.encoded()).contains("a study launch holds one study, not 2"))
        var escaping = job(StudyLaunch(study: BuiltinStudies.scaling, out: out, language: .english))
        escaping.launch.studies[0].name = "../elsewhere"
        #expect(refusal(try escaping.encoded()).contains("study name"))
        var threads = job(StudyLaunch(study: BuiltinStudies.scaling, out: out, language: .english))
        threads.threads = 1 << 40
        #expect(refusal(try threads.encoded()).contains("asks for \(1 << 40) threads"))
        var rate = job(StudyLaunch(lab: BuiltinStudies.lab, out: out, language: .english, sampleSeed: 0))
        rate.launch.studies[2].runs[1].config.learningRate = -1
        #expect(refusal(try rate.encoded()).contains("optimizer: Adam"))
    }
}
