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

    /// The pool deals task i to the same thread every time (its slice of the weights stays in that core's
    /// cache), and runs every task exactly once even when jobs of different widths follow each other closely,
    /// so a worker left out of one job may see the next one first.
    @Test func thePoolDealsEveryTaskOnceAndAlwaysToTheSameThread() {
        let (jobs, widest) = (800, 5)
        // Jobs of 2…5 threads with as many tasks as threads, or one fewer.
        func threads(_ job: Int) -> Int { 2 + job % (widest - 1) }
        func tasks(_ job: Int) -> Int { threads(job) - job / (widest - 1) % 2 }
        var hits = [Int32](repeating: 0, count: jobs * widest)
        var runners = [UInt](repeating: 0, count: jobs * widest)
        hits.withUnsafeMutableBufferPointer { hits in
            runners.withUnsafeMutableBufferPointer { runners in
                for job in 0..<jobs {
                    var slots = (hits.baseAddress! + job * widest, runners.baseAddress! + job * widest)
                    fl_parallel_run(tasks(job), { context, index in
                        let (hits, runners) = context!.assumingMemoryBound(to: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UInt>).self).pointee
                        hits[index] += 1
                        runners[index] = UInt(pthread_self())
                    }, &slots, Int32(threads(job)))
                }
            }
        }
        for job in 0..<jobs {
            #expect(hits[job * widest..<job * widest + tasks(job)].allSatisfy { $0 == 1 }, "job \(job)")
        }
        // A job submitted while another test's job runs is run inline by the caller instead: leave those out.
        let caller = UInt(pthread_self())
        #expect(runners[0] == caller, "the caller runs task 0")
        for index in 1..<widest {
            let workers = Set((0..<jobs).filter { tasks($0) > index }.map { runners[$0 * widest + index] }).subtracting([caller])
            #expect(workers.count == 1, "task \(index) ran on \(workers.count) worker threads")
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
