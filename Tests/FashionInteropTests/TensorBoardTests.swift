import Foundation
import Testing
import FashionCore
import FashionData
import FashionEngine
import FashionInterop
import FashionStudies
import FashionTraining
import FashionTestSupport

/// TFRecord's checksum against the published vectors (RFC 3720's, and the usual check string).
@Suite struct CRC32CTests {
    @Test func knownVectors() {
        #expect(CRC32C.checksum("123456789".utf8) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func maskedAsTensorFlowMasksIt() {
        // TensorFlow's crc32c::Mask: rotate right by 15 bits, add 0xa282ead8.
        #expect(CRC32C.masked(0) == 0xA282_EAD8)
        #expect(CRC32C.masked(0xE306_9283) == (((0xE306_9283 as UInt32) >> 15 | (0xE306_9283 as UInt32) << 17) &+ 0xA282_EAD8))
        #expect(CRC32C.masked(0xE306_9283) != 0xE306_9283)
    }
}

struct ReaderFailed: Error { let output: String }

/// What TensorBoard's own reader (`scripts/read_tensorboard.py`, EventAccumulator) finds in a logdir.
struct TensorBoardReading {
    struct Histogram { let step: Int; let num: Double; let min: Double; let max: Double; let bucketTotal: Double }
    struct Run {
        let files: Int
        let scalars: [String: [(step: Int, value: Double)]]
        let histograms: [String: [Histogram]]
    }
    let runs: [String: Run]

    init(logdir: String) throws {
        let script = ConsumerPython.repositoryRoot + "/scripts/read_tensorboard.py"
        let (status, output) = try ConsumerPython.run([script, logdir])
        guard status == 0, let start = output.firstIndex(of: "{") else {
            throw ReaderFailed(output: "read_tensorboard.py failed (\(status)): \(output)")
        }
        // TensorBoard may warn on standard error before the JSON.
        let json = try JSONSerialization.jsonObject(with: Data(output[start...].utf8)) as! [String: Any]
        func number(_ value: Any) -> Double {
            if let string = value as? String { return string == "nan" ? .nan : string == "inf" ? .infinity : -.infinity }
            return (value as! NSNumber).doubleValue
        }
        var runs: [String: Run] = [:]
        for (name, value) in json["runs"] as! [String: [String: Any]] {
            let scalars = (value["scalars"] as! [String: [[Any]]]).mapValues { $0.map { (step: ($0[0] as! NSNumber).intValue, value: number($0[1])) } }
            let histograms = (value["histograms"] as! [String: [[String: Any]]]).mapValues {
                $0.map { Histogram(step: ($0["step"] as! NSNumber).intValue, num: number($0["num"]!), min: number($0["min"]!),
                                   max: number($0["max"]!), bucketTotal: number($0["bucket_total"]!)) }
            }
            runs[name] = Run(files: (value["files"] as! NSNumber).intValue, scalars: scalars, histograms: histograms)
        }
        self.runs = runs
    }
}

/// A value as TensorBoard stores it: a 32-bit float. (Read back through JSON, as a double, it may be a unit in the
/// last place of a double away — Foundation's JSON parser on Linux rounds — and comes back exactly as a Float.)
private func stored(_ value: Double) -> Float { Float(value) }

/// Equal as TensorBoard stores them (32-bit floats), NaN equal to NaN.
private func same(_ read: [Double], _ expected: [Float]) -> Bool {
    read.count == expected.count && zip(read.map { Float($0) }, expected).allSatisfy { $0.isNaN && $1.isNaN || $0 == $1 }
}

private let realData: FashionMNISTData? = try? FashionMNISTLoader.load(directory: "/usr/share/datasets/fashion-mnist")

@Suite(.enabled(if: ConsumerPython.has("tensorboard"), Comment(rawValue: ConsumerPython.missing("tensorboard"))))
struct TensorBoardReaderTests {
    /// A small real run: 600 Fashion-MNIST training images (150 of them held out with `split`), 300 test images.
    func config(split: Bool) -> TrainingConfig {
        var config = TrainingConfig()
        config.hidden = [32]
        config.optimizer = .sgd
        config.learningRate = 0.05
        config.momentum = 0.9
        config.schedule = .cosine(minimum: 0)
        config.epochs = 3
        config.batchSize = 25
        config.logEvery = 4
        config.seed = 7
        if split { config.validationSplit = 150 }
        return config
    }

    func data() throws -> (train: Dataset, test: Dataset) {
        let data = try #require(realData, "needs Fashion-MNIST in /usr/share/datasets/fashion-mnist")
        return (data.train.subset(0..<600), data.test.subset(0..<300))
    }

    /// Every scalar and histogram of the run, at the steps and with the values its history recorded.
    func expectRecorded(_ history: TrainingHistory, model: Sequential, in run: TensorBoardReading.Run) {
        let epochs = history.epochs.map(\.epoch)
        let validation = history.config.validationSplit == nil ? "test" : "validation"
        let expected: [String: [Double]] = [
            "loss/train": history.epochs.map(\.trainLoss),
            "accuracy/train": history.epochs.map(\.trainAccuracy),
            "learning_rate": history.epochs.map { Double($0.learningRate) },
            "loss/" + validation: history.epochs.map { $0.validationLoss! },
            "accuracy/" + validation: history.epochs.map { $0.validationAccuracy! },
        ]
        for (tag, values) in expected {
            let read = run.scalars[tag] ?? []
            #expect(read.map(\.step) == epochs, "\(tag)")
            #expect(same(read.map(\.value), values.map(stored)), "\(tag): \(read.map(\.value)) against \(values)")
        }
        let steps = run.scalars["steps/train_loss"] ?? []
        #expect(!history.steps.isEmpty)
        #expect(steps.map(\.step) == history.steps.map(\.step))
        #expect(same(steps.map(\.value), history.steps.map { stored($0.loss) }))
        if let test = history.test {
            #expect(run.scalars["loss/test"]?.map(\.step) == [test.epoch])
            #expect(same(run.scalars["loss/test"]?.map(\.value) ?? [], [stored(test.loss)]))
            #expect(same(run.scalars["accuracy/test"]?.map(\.value) ?? [], [stored(test.accuracy)]))
        }
        let tags = Set(expected.keys).union(["steps/train_loss"]).union(history.test == nil ? [] : ["loss/test", "accuracy/test"])
        #expect(Set(run.scalars.keys) == tags)

        #expect(Set(run.histograms.keys) == Set(model.parameters.map { "weights/" + $0.name }))
        for parameter in model.parameters {
            let histograms = run.histograms["weights/" + parameter.name] ?? []
            #expect(histograms.map(\.step) == epochs, "\(parameter.name)")
            #expect(histograms.allSatisfy { $0.num == Double(parameter.value.count) && $0.bucketTotal == $0.num }, "\(parameter.name)")
            // The last epoch's histogram is of the weights the run ended with.
            let values = parameter.value.toArray()
            #expect(same([histograms.last?.min ?? 0, histograms.last?.max ?? 0], [values.min()!, values.max()!]), "\(parameter.name)")
        }
    }

    @Test(arguments: [false, true])
    func aRealRunReadsBackAsRecorded(split: Bool) throws {
        let (train, test) = try data()
        let logdir = TestFiles.newPath("tensorboard")
        let trainer = try Trainer(config: config(split: split), train: train, test: test)
        let observer = try TensorBoardObserver(logdir: logdir, runDirectory: "runs/small-mlp")
        let history = try trainer.run(observer: observer)
        #expect(observer.failure == nil)
        #expect(history.epochs.count == 3 && (history.test != nil) == split)
        #expect(URL(fileURLWithPath: observer.path).lastPathComponent.hasPrefix("events.out.tfevents."))

        let reading = try TensorBoardReading(logdir: logdir)
        #expect(Array(reading.runs.keys) == ["small-mlp"])
        let run = try #require(reading.runs["small-mlp"])
        #expect(run.files == 1)
        expectRecorded(history, model: trainer.model, in: run)
    }

    /// Trains `config(split: false)` (24 batches an epoch) in `directory` until a stop is requested before batch
    /// `batches + 1` (counted from this trainer's start), from the checkpoint there when there is one.
    func trainUntil(batches: Int, in directory: String, observer: TensorBoardObserver? = nil) throws -> TrainingHistory {
        let (train, test) = try data()
        let trainer = TrainingCheckpoint.exists(in: directory)
            ? try TrainingCheckpoint.resume(from: directory, train: train, test: test)
            : try Trainer(config: config(split: false), train: train, test: test)
        trainer.checkpointDirectory = directory
        var count = 0
        trainer.stopRequested = { count += 1; return count > batches }
        return try trainer.run(observer: observer)
    }

    /// Interrupted in its second epoch and resumed: each step once, the values of the finished run, two files.
    @Test func aResumedRunAppendsWithoutRepeatingAStep() throws {
        let (train, test) = try data()
        let logdir = TestFiles.newPath("tensorboard-resume"), directory = TestFiles.newPath("run")
        let partial = try trainUntil(batches: 24 + 10, in: directory, observer: try TensorBoardObserver(logdir: logdir, runDirectory: directory))
        #expect(partial.interrupted && partial.epochs.count == 1)

        let resumed = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        let observer = try TensorBoardObserver(logdir: logdir, runDirectory: directory)
        let history = try resumed.run(observer: observer)
        #expect(history.epochs.count == 3 && observer.failure == nil)

        let run = try #require(try TensorBoardReading(logdir: logdir).runs[TensorBoardObserver.runName(forRunDirectory: directory)])
        #expect(run.files == 2)
        let scalars = run.scalars["loss/train"] ?? []
        #expect(scalars.map(\.step) == [1, 2, 3])
        // Histograms of the first epoch came from the first process; the later ones from the resumed one.
        #expect(run.histograms["weights/0.weight"]?.map(\.step) == [1, 2, 3])
        let steps = run.scalars["steps/train_loss"]?.map(\.step) ?? []
        #expect(steps == history.steps.map(\.step) && steps == steps.sorted() && Set(steps).count == steps.count)
        #expect(same(scalars.map(\.value), history.epochs.map { stored($0.trainLoss) }))
    }

    /// Killed after an epoch's checkpoint was saved but before its events were written (and in the middle of a
    /// record): the resumed run writes that epoch from its history, and both readers skip the cut record.
    @Test func aResumedRunWritesTheEpochsItsEventsLack() throws {
        let (train, test) = try data()
        let logdir = TestFiles.newPath("tensorboard-gap"), directory = TestFiles.newPath("run")
        let observer = try TensorBoardObserver(logdir: logdir, runDirectory: directory)
        #expect(try trainUntil(batches: 24 + 10, in: directory, observer: observer).epochs.count == 1)
        let cut = try FileHandle(forWritingTo: URL(fileURLWithPath: observer.path))
        try cut.seekToEnd()
        try cut.write(contentsOf: Data([0x40, 0, 0, 0, 0, 0, 0, 0, 0x12]))  // the start of a record, and no more
        try cut.close()

        #expect(try trainUntil(batches: 24 + 5, in: directory).epochs.count == 2)  // epoch 2 saved without its events

        let third = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        let history = try third.run(observer: try TensorBoardObserver(logdir: logdir, runDirectory: directory))
        let run = try #require(try TensorBoardReading(logdir: logdir).runs.values.first)
        #expect(run.files == 2)
        #expect(run.scalars["loss/train"]?.map(\.step) == [1, 2, 3])
        #expect(same(run.scalars["loss/train"]?.map(\.value) ?? [], history.epochs.map { stored($0.trainLoss) }))
        #expect(run.scalars["steps/train_loss"]?.map(\.step) == history.steps.map(\.step))
        #expect(same(run.scalars["steps/train_loss"]?.map(\.value) ?? [], history.steps.map { stored($0.loss) }))
        #expect(run.histograms["weights/0.weight"]?.map(\.step) == [1, 3])
    }

    /// Resumed into a logdir that has none of its events: the epochs before it are written from its history.
    @Test func aRunResumedIntoAnEmptyLogdirWritesItsEarlierEpochs() throws {
        let (train, test) = try data()
        let directory = TestFiles.newPath("run")
        #expect(try trainUntil(batches: 24 * 2 + 3, in: directory).epochs.count == 2)
        let logdir = TestFiles.newPath("tensorboard-late")
        let resumed = try TrainingCheckpoint.resume(from: directory, train: train, test: test)
        let history = try resumed.run(observer: try TensorBoardObserver(logdir: logdir, runDirectory: directory))
        let run = try #require(try TensorBoardReading(logdir: logdir).runs.values.first)
        #expect(run.scalars["accuracy/test"]?.map(\.step) == [1, 2, 3])
        #expect(same(run.scalars["accuracy/test"]?.map(\.value) ?? [], history.epochs.map { stored($0.validationAccuracy!) }))
        #expect(run.scalars["steps/train_loss"]?.map(\.step) == history.steps.map(\.step))
        #expect(run.histograms["weights/0.weight"]?.map(\.step) == [3])  // the earlier epochs' weights are gone
    }

    /// A diverged run's NaN loss is written, read back as NaN, and the histograms count the weights still finite.
    @Test func aDivergedRunIsReadable() throws {
        let (train, test) = try data()
        var config = config(split: false)
        config.scale = false
        config.learningRate = 1e30
        let logdir = TestFiles.newPath("tensorboard-nan")
        let trainer = try Trainer(config: config, train: train, test: test)
        let observer = try TensorBoardObserver(logdir: logdir, runDirectory: "diverged")
        let history = try trainer.run(observer: observer)
        #expect(history.diverged && observer.failure == nil)
        let run = try #require(try TensorBoardReading(logdir: logdir).runs["diverged"])
        #expect(run.scalars["loss/train"]?.last?.value.isNaN == true || run.scalars["loss/train"]?.last?.value.isInfinite == true)
        #expect(same(run.scalars["loss/train"]?.map(\.value) ?? [], history.epochs.map { stored($0.trainLoss) }))
        for parameter in trainer.model.parameters {
            let finite = parameter.value.toArray().filter(\.isFinite).count
            #expect(run.histograms["weights/" + parameter.name]?.last.map { $0.num == Double(finite) } ?? (finite == 0))
        }
    }

    /// A study's runs each in LOGDIR/<run directory's name>; run again, the reused runs are written from their history.
    @Test func aStudyWritesEachRunAndItsReusedRuns() throws {
        let train = Dataset.bands(count: 200, seed: 1), test = Dataset.bands(count: 50, seed: 2)
        var small = TrainingConfig()
        (small.hidden, small.epochs, small.batchSize, small.optimizer, small.learningRate) = ([16], 2, 10, .adam, 0.01)
        var large = small
        large.batchSize = 100
        let study = Study(name: "batch-size", kind: .batchSize, runs: [StudyRun(label: "batch 10", config: small), StudyRun(label: "batch 100", config: large)])
        let runs = TestFiles.newPath("study")

        let logdir = TestFiles.newPath("tensorboard-study")
        let runner = StudyRunner(train: train, test: test, runsDirectory: runs)
        let events = try TensorBoardLogdir(path: logdir)
        events.attach(to: runner)
        let result = try runner.run(study)
        #expect(events.failures.isEmpty)
        let names = result.runs.map { URL(fileURLWithPath: $0.directory).lastPathComponent }
        let reading = try TensorBoardReading(logdir: logdir)
        #expect(Set(reading.runs.keys) == Set(names))
        for run in result.runs {
            let read = try #require(reading.runs[URL(fileURLWithPath: run.directory).lastPathComponent])
            #expect(same(read.scalars["loss/train"]?.map(\.value) ?? [], run.history.epochs.map { stored($0.trainLoss) }))
            #expect(read.histograms["weights/2.bias"]?.map(\.step) == [1, 2])
        }

        let again = TestFiles.newPath("tensorboard-reused")
        let second = StudyRunner(train: train, test: test, runsDirectory: runs)
        try TensorBoardLogdir(path: again).attach(to: second)
        let reused = try second.run(study)
        #expect(reused.runs.allSatisfy { $0.reused })
        let rereading = try TensorBoardReading(logdir: again)
        #expect(Set(rereading.runs.keys) == Set(names))
        for run in reused.runs {
            let read = try #require(rereading.runs[URL(fileURLWithPath: run.directory).lastPathComponent])
            #expect(read.scalars["accuracy/test"]?.map(\.step) == [1, 2])
            #expect(same(read.scalars["accuracy/test"]?.map(\.value) ?? [], run.history.epochs.map { stored($0.validationAccuracy!) }))
            #expect(read.histograms.isEmpty)
        }
    }
}

@Suite struct TensorBoardDirectoryTests {
    @Test func aDirectoryThatCannotBeMadeIsRefusedByName() throws {
        let file = TestFiles.newPath("not-a-directory")
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(throws: TensorBoardError.self) { try TensorBoardObserver(directory: file) }
        do {
            _ = try TensorBoardLogdir(path: file + "/logs")
            Issue.record("a logdir under a file was accepted")
        } catch let error as TensorBoardError {
            #expect(error.description == "--tensorboard: cannot create the directory \(file)/logs: \(file) is a file")
        }
    }

    @Test func runNames() {
        #expect(TensorBoardObserver.runName(forRunDirectory: "runs/adam-lr0.001") == "adam-lr0.001")
        #expect(TensorBoardObserver.runName(forRunDirectory: "runs/sweep/seed-3/") == "sweep/seed-3")
        #expect(TensorBoardObserver.runName(forRunDirectory: "/tmp/x/") == "x")
    }

    /// Written bytes framed as TFRecord: each record's length and data checked by their masked CRC-32C.
    @Test func theFileIsFramedAsTFRecord() throws {
        let directory = TestFiles.newDirectory("framing")
        let observer = try TensorBoardObserver(directory: directory)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: observer.path)))
        var offset = 0, records = 0
        func little<T: FixedWidthInteger>(_ type: T.Type, at position: Int) -> T {
            bytes[position..<position + MemoryLayout<T>.size].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        while offset < bytes.count {
            let length = Int(little(UInt64.self, at: offset))
            #expect(little(UInt32.self, at: offset + 8) == CRC32C.masked(CRC32C.checksum(bytes[offset..<offset + 8])))
            let data = bytes[offset + 12..<offset + 12 + length]
            #expect(little(UInt32.self, at: offset + 12 + length) == CRC32C.masked(CRC32C.checksum(data)))
            #expect(String(decoding: data, as: UTF8.self).contains("brain.Event:2"))
            offset += 16 + length
            records += 1
        }
        #expect(records == 1 && offset == bytes.count)
    }
}
