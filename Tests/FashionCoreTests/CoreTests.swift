import Foundation
import Testing
import CKernels
import FashionCore
import FashionTestSupport

@Suite struct SeededGeneratorTests {
    @Test func sameSeedSameStream() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        #expect(first != (0..<100).map { _ in c.next() })
    }

    @Test func unitFloatsAreInRangeAndSpread() {
        var generator = SeededGenerator(seed: 1)
        let values = (0..<10_000).map { _ in generator.nextUnitFloat() }
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = values.reduce(0, +) / Float(values.count)
        #expect(abs(mean - 0.5) < 0.02)
    }
}

@Suite struct AtomicFileTests {
    @Test func writesAndReplaces() throws {
        let directory = TestFiles.newPath("atomic")
        let path = directory + "/sub/file.txt"
        try AtomicFile.write(text: "one", to: path)
        try AtomicFile.write(text: "two", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/sub") == ["file.txt"])
    }

    /// A process killed while it wrote (kill -9 during a checkpoint's save) leaves `NAME.tmp-PID-RANDOM`, as big
    /// as the file itself. The next write of that file, and the next lock of its directory, remove what dead
    /// processes left; a running writer's temporary file stays.
    @Test func leftoversOfKilledWritersAreRemovedAndLiveOnesKept() throws {
        let directory = TestFiles.newDirectory("leftovers")
        let dead = try Self.finishedProcessID()
        let live = Process()
        live.executableURL = URL(fileURLWithPath: "/bin/sleep")
        live.arguments = ["60"]
        try live.run()
        defer { live.terminate(); live.waitUntilExit() }
        let deadCheckpoint = "checkpoint.safetensors.tmp-\(dead)-12345"
        let deadMetrics = "metrics.json.tmp-\(dead)-777"
        let liveCheckpoint = "checkpoint.safetensors.tmp-\(live.processIdentifier)-99"
        for name in [deadCheckpoint, deadMetrics, liveCheckpoint, "notes.tmp-x-1"] {
            try AtomicFile.write(text: "partial", to: directory + "/" + name)
        }
        func names() throws -> Set<String> { Set(try FileManager.default.contentsOfDirectory(atPath: directory)) }

        try AtomicFile.write(text: "whole", to: directory + "/checkpoint.safetensors")
        #expect(try names() == ["checkpoint.safetensors", deadMetrics, liveCheckpoint, "notes.tmp-x-1"])

        let lock = try DirectoryLock(directory: directory, wait: false)
        _ = lock
        #expect(try names() == ["checkpoint.safetensors", liveCheckpoint, "notes.tmp-x-1", ".fashionlab.lock"])
    }

    /// The id of a process that has ended (and been reaped).
    static func finishedProcessID() throws -> pid_t {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test(.enabled(if: getuid() != 0, "root can write to read-only directories"))
    func readOnlyDirectoryGivesAClearErrorAndNoFile() throws {
        let directory = TestFiles.newDirectory("read-only")
        chmod(directory, 0o555)
        defer { chmod(directory, 0o755) }
        let error = #expect(throws: FileWriteError.self) { try AtomicFile.write(text: "x", to: directory + "/f") }
        #expect(error?.description.contains(directory + "/f") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func parallelForCoversEveryIndexOnce() {
        var hits = [Int](repeating: 0, count: 10_000)
        hits.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            parallelFor(buffer.count, minimumChunk: 100) { range in
                for i in range { buffer[i] += 1 }
            }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }

    /// Every task of every job runs exactly once: the pool deals each thread its share, a thread done early
    /// takes what no one has started, and a worker late for one job (it may see the next one first, as jobs
    /// of different widths follow each other closely) must not run a task twice or one of the wrong job.
    @Test func thePoolRunsEveryTaskOfEveryJobOnce() {
        let (jobs, widest) = (2_000, 11)
        // Jobs of 2…5 threads (more than this machine's cores, some of them) with 1…11 tasks.
        func threads(_ job: Int) -> Int { 2 + job % 4 }
        func tasks(_ job: Int) -> Int { 1 + job * 7 % widest }
        var hits = [Int32](repeating: 0, count: jobs * widest)
        var runners = [UInt](repeating: 0, count: jobs * widest)
        hits.withUnsafeMutableBufferPointer { hits in
            runners.withUnsafeMutableBufferPointer { runners in
                for job in 0..<jobs {
                    var slot = (hits.baseAddress! + job * widest, runners.baseAddress! + job * widest)
                    fl_parallel_run(tasks(job), { context, index in
                        let (hits, runners) = context!.assumingMemoryBound(to: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UInt>).self).pointee
                        // A few microseconds of work, so the workers take part rather than the caller doing it all.
                        var x = UInt64(index)
                        for _ in 0..<5_000 { x = x &* 6_364_136_223_846_793_005 &+ 1 }
                        hits[index] += x == 42 ? 2 : 1
                        runners[index] = UInt(pthread_self())
                    }, &slot, Int32(threads(job)))
                }
            }
        }
        #expect(Set(runners).subtracting([0, UInt(pthread_self())]).count >= 1, "no task ran on a worker thread")
        for job in 0..<jobs {
            let row = hits[job * widest..<(job + 1) * widest]
            #expect(row.prefix(tasks(job)).allSatisfy { $0 == 1 } && row.dropFirst(tasks(job)).allSatisfy { $0 == 0 }, "job \(job): \(Array(row))")
        }
    }
}

@Suite struct JSONKeysTests {
    func repeated(_ json: String) -> String? { JSONKeys.firstRepeated(in: Array(json.utf8)) }

    @Test func findsAKeyRepeatedInAnyObject() {
        #expect(repeated(#"{"a": 1, "b": 2, "a": 3}"#) == "a")
        #expect(repeated(#"{"x": [{"k": 1, "k": 2}]}"#) == "k")
        #expect(repeated(#"{"a": 1, "\u0061": 2}"#) == "a", "escapes are decoded before comparing")
        #expect(repeated("{\"e\u{301}\": 1, \"\u{E9}\": 2}") == "\u{E9}", "keys a decoded dictionary would merge")
    }

    @Test func distinctKeysPass() {
        #expect(repeated(#"{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}], "c": "a\"a", "d": ["a", "a"]}"#) == nil)
        #expect(repeated(#"[1, "a", {"a": "a"}]"#) == nil)
        #expect(repeated(#"{"a\\": 1, "a": 2}"#) == nil)
    }
}
