import Foundation
import Testing
import FashionTestSupport

/// The `fashionlab` binary built beside this test bundle.
let fashionlabBinary: String = {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return here.appendingPathComponent("fashionlab").path
}()

struct CommandResult {
    let status: Int32
    let crashed: Bool
    let output: String
    let error: String
}

/// Runs `fashionlab` with `arguments`, no standard input, a time limit, and returns what it said.
func runFashionlab(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil, timeout: Double = 900) throws -> CommandResult {
    try runTool(fashionlabBinary, arguments, environment: environment, directory: directory, timeout: timeout)
}

/// Runs a program with a time limit (killed after `timeout` seconds, then the test fails on its status),
/// reading its output and its errors at once so that neither pipe fills up and stalls it.
func runTool(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
             timeout: Double) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    watchdog.cancel()
    return CommandResult(status: process.terminationStatus, crashed: process.terminationReason == .uncaughtSignal,
                         output: String(decoding: outData, as: UTF8.self), error: String(decoding: errData, as: UTF8.self))
}

let dataDirectory = "/usr/share/datasets/fashion-mnist"
let dataAvailable = FileManager.default.fileExists(atPath: dataDirectory + "/train-images-idx3-ubyte.gz")

/// Broken copies of the dataset, one fault per directory.
let brokenData: [String: String] = {
    let root = TestFiles.newPath("broken-data")
    var made: [String: String] = [:]
    guard dataAvailable else { return made }
    let files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    func copy(_ name: String) -> String {
        let directory = root + "/" + name
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files { try! FileManager.default.copyItem(atPath: dataDirectory + "/" + file, toPath: directory + "/" + file) }
        return directory
    }
    let truncated = copy("truncated")
    let labels = FileManager.default.contents(atPath: truncated + "/t10k-labels-idx1-ubyte.gz")!
    _ = FileManager.default.createFile(atPath: truncated + "/t10k-labels-idx1-ubyte.gz", contents: labels.prefix(labels.count / 2))
    made["truncated"] = truncated
    // Images stored under the labels' name: a wrong magic number.
    let magic = copy("magic")
    try! FileManager.default.removeItem(atPath: magic + "/t10k-labels-idx1-ubyte.gz")
    try! FileManager.default.copyItem(atPath: dataDirectory + "/t10k-images-idx3-ubyte.gz", toPath: magic + "/t10k-labels-idx1-ubyte.gz")
    made["magic"] = magic
    let notGzip = copy("not-gzip")
    _ = FileManager.default.createFile(atPath: notGzip + "/train-labels-idx1-ubyte.gz", contents: Data("hello, this is not gzip".utf8))
    made["not-gzip"] = notGzip
    return made
}()

/// Every command and flag with wrong values: each must fail with a clear message that names the flag
/// or file, a non-zero exit code, and no crash.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: fashionlabBinary), "the fashionlab binary is not built beside the tests"))
struct BadInputTests {
    static let badStudy: String = {
        let path = TestFiles.newPath("bad-study", extension: "json")
        _ = FileManager.default.createFile(atPath: path, contents: Data("{\n  \"grid\": {\"lr\": [0.1, \"fast\"]}\n}".utf8))
        return path
    }()
    static let notJSON: String = {
        let path = TestFiles.newPath("not-json", extension: "json")
        _ = FileManager.default.createFile(atPath: path, contents: Data("{ \"base\": { \"lr\" 0.1 } }".utf8))
        return path
    }()
    static let aFile: String = {
        let path = TestFiles.newPath("a-file")
        _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        return path
    }()

    static let cases: [(arguments: [String], expected: String)] = [
        (["frobnicate"], "Unexpected argument 'frobnicate'"),
        (["train", "--lr", "0"], "--lr must be a positive number"),
        (["train", "--lr", "-0.5"], "--lr"),
        (["train", "--lr", "fast"], "--lr"),
        (["train", "--batch-size", "0"], "--batch-size must be 1 to 100000, got 0"),
        (["train", "--epochs", "0"], "--epochs must be 1 to 100000, got 0"),
        (["train", "--optimizer", "rmsprop"], "--optimizer"),
        (["train", "--model", "resnet"], "--model 'resnet' is not a known model"),
        (["train", "--hidden", "100,x"], "--hidden '100,x'"),
        (["train", "--hidden", "0"], "--hidden sizes must be 1 to 1000000, got 0"),
        (["train", "--schedule", "linear"], "--schedule 'linear'"),
        (["train", "--momentum", "1.5"], "--momentum must be in [0, 1)"),
        (["train", "--momentum", "0.9", "--optimizer", "adam"], "--momentum applies to the sgd optimiser only, got 0.9 with adam"),
        (["train", "--nesterov"], "--nesterov needs"),
        (["train", "--weight-decay", "-1"], "--weight-decay"),
        (["train", "--lr", "-1"], "--lr must be a positive number up to 1000.0, got -1.0"),
        (["train", "--log-every", "-5"], "--log-every must be 1 to 1000000 steps, got -5"),
        (["train", "--early-stop", "-2"], "--early-stop must be 1 to 100000 epochs, got -2"),
        (["lr-find", "--start", "-1"], "--start must be a positive number, got -1.0"),
        (["train", "--weight-decay", "-0.5"], "--weight-decay must be 0 to 10.0, got -0.5"),
        (["prepare", "--out", "samples.txt"], "--out samples.txt must name a .png file"),
        (["train", "--threads", "0"], "--threads must be 1 to 1024, got 0"),
        (["train", "--threads", "99999999999"], "--threads must be 1 to 1024, got 99999999999"),
        (["train", "--subset", "0"], "--subset must be at least 1"),
        (["train", "--seed", "-3"], "--seed"),
        (["train", "--model", "cnn", "--augment", "flip,rotate"], "--augment 'rotate' is not flip, crop:PADDING or erase:PROBABILITY"),
        (["train", "--model", "cnn", "--augment", "crop:20"], "--augment 'crop:20': crop padding must be a whole number from 1 to 8"),
        (["train", "--model", "cnn", "--augment", "erase:1.5"], "--augment 'erase:1.5': erase probability must be in (0, 1]"),
        (["train", "--augment", "flip"], "--augment needs a convolutional model"),
        (["train", "--label-smoothing", "1"], "--label-smoothing must be in [0, 1)"),
        (["train", "--train-metrics", "sometimes"], "--train-metrics"),
        (["train", "--recipe", "fast"], "--recipe 'fast' is not a known recipe"),
        (["train", "--recipe", "cnn", "--batch-size", "8"], "--batch-size is set by --recipe cnn itself"),
        // A flag given with its default value is still a flag the recipe would silently override.
        (["train", "--recipe", "cnn", "--optimizer", "sgd"], "--optimizer is set by --recipe cnn itself"),
        (["train", "--recipe", "cnn", "--model", "mlp"], "--model is set by --recipe cnn itself"),
        (["train", "--label-smoothing", "-0.5"], "--label-smoothing must be in [0, 1), got -0.5"),
        (["train", "--resume", "/nonexistent/run"], "--resume /nonexistent/run: no checkpoint.safetensors"),
        (["train", "--data", "/nonexistent/data"], "--data /nonexistent/data: directory does not exist"),
        (["prepare", "--data", aFile], "is a file, not a directory"),
        (["bench", "--repetitions", "0"], "--repetitions must be at least 1"),
        (["study"], "give a study NAME or --file FILE"),
        (["study", "no-such-study"], "unknown study 'no-such-study'"),
        (["study", "--file", "/nonexistent/study.json"], "/nonexistent/study.json: no such file"),
        (["study", "--file", badStudy], "grid.lr[1]: expected a number, found fast"),
        (["study", "--file", notJSON], "not valid JSON at line 1"),
        (["study", "scaling", "--lang", "fr"], "--lang must be en or vi"),
        (["study", "scaling", "--epochs", "0"], "--epochs must be at least 1"),
        (["lab", "--lang", "de"], "--lang must be en or vi"),
        (["lab", "--epochs", "-1"], "--epochs"),
        (["plot"], "RUN_DIR"),
        (["plot", "/nonexistent/run"], "/nonexistent/run/metrics.json: no such directory"),
    ]

    @Test(arguments: cases.indices)
    func rejectsWithAClearMessage(index: Int) throws {
        let (arguments, expected) = Self.cases[index]
        let result = try runFashionlab(arguments)
        #expect(!result.crashed, "\(arguments) crashed")
        #expect(result.status != 0, "\(arguments) exited 0")
        #expect(result.error.contains(expected), "\(arguments): stderr was \(result.error)")
    }

    @Test(.enabled(if: dataAvailable, "needs /usr/share/datasets/fashion-mnist"),
          arguments: [("truncated", "truncated gzip stream"), ("magic", "wrong magic number 0x00000803, expected 0x00000801"),
                      ("not-gzip", "not a gzip file")])
    func brokenDataFilesAreNamed(fault: String, expected: String) throws {
        let directory = try #require(brokenData[fault])
        let out = TestFiles.newPath("out", extension: "png")
        let result = try runFashionlab(["prepare", "--data", directory, "--out", out])
        #expect(!result.crashed && result.status != 0)
        #expect(result.error.contains(directory + "/"), "names the file: \(result.error)")
        #expect(result.error.contains(expected), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: out), "no output written")
    }

    @Test(.enabled(if: dataAvailable && getuid() != 0, "needs the dataset and a non-root user"))
    func readOnlyOutputDirectoryIsAClearError() throws {
        let directory = TestFiles.newDirectory("read-only")
        chmod(directory, 0o555)
        defer { chmod(directory, 0o755) }
        let result = try runFashionlab(["prepare", "--out", directory + "/samples.png"])
        #expect(result.status != 0 && result.error.contains(directory + "/samples.png: cannot be written"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test(.enabled(if: dataAvailable, "needs /usr/share/datasets/fashion-mnist"))
    func prepareWorksOnTheRealData() throws {
        let out = TestFiles.newPath("samples", extension: "png")
        let result = try runFashionlab(["prepare", "--out", out, "--json"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("\"trainImagesShape\":[60000,28,28]"))
        #expect(result.output.contains("\"problem\":\"10-class classification\""))
        #expect(FileManager.default.fileExists(atPath: out))
    }
}

/// Ctrl-C and kill -9 during training, then `--resume`: the same final weights as an uninterrupted run.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct InterruptionTests {
    let arguments = ["train", "--subset", "3000", "--hidden", "64", "--optimizer", "adam", "--lr", "0.001", "--epochs", "3", "--seed", "5", "--json"]

    func digest(_ output: String) -> String? {
        guard let range = output.range(of: "\"weights_sha256\":\"") else { return nil }
        return String(output[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func ctrlCStopsSavesAndResumesBitIdentically() throws {
        let root = TestFiles.newPath("interrupted")
        let reference = try runFashionlab(arguments + ["--out", root + "/reference"])
        let expected = try #require(digest(reference.output))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: fashionlabBinary)
        process.arguments = arguments + ["--out", root + "/interrupted"]
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        // Wait for the first epoch's checkpoint, then press Ctrl-C.
        let checkpoint = root + "/interrupted/checkpoint.safetensors"
        while !FileManager.default.fileExists(atPath: checkpoint), process.isRunning { usleep(10_000) }
        kill(process.processIdentifier, SIGINT)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 0 {
            // The run finished before the signal arrived; nothing to resume, but it must match.
            let resumed = try runFashionlab(["train", "--resume", root + "/interrupted", "--json"])
            #expect(resumed.status == 0)
            return
        }
        #expect(process.terminationStatus == 130)
        #expect(message.contains("Continue with: fashionlab train --resume \(root)/interrupted"), "\(message)")

        let resumed = try runFashionlab(["train", "--resume", root + "/interrupted", "--json"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(digest(resumed.output) == expected)
    }
}

/// A full disk and a read-only file system, on a tiny tmpfs (needs root to mount; CI runs as root).
@Suite(.enabled(if: dataAvailable && getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/mount"),
                "needs root (to mount a tmpfs) and the dataset"))
struct FileSystemFaultTests {
    func shell(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func fullAndReadOnlyDisksGiveClearErrorsAndNoPartialFiles() throws {
        let directory = TestFiles.newDirectory("tmpfs")
        guard shell(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", directory]) == 0 else {
            Issue.record("could not mount a tmpfs at \(directory)")
            return
        }
        defer { _ = shell(["umount", directory]) }

        // The sample grid (about 67 kB) does not fit in 32 kB.
        let full = try runFashionlab(["prepare", "--out", directory + "/samples.png"])
        #expect(full.status != 0 && !full.crashed)
        #expect(full.error.contains(directory + "/samples.png: cannot be written (No space left on device)"), "\(full.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "no partial file left")

        // A training run whose output directory is on the full disk fails cleanly too.
        let run = try runFashionlab(["train", "--subset", "500", "--hidden", "64", "--epochs", "1", "--out", directory + "/run"])
        #expect(run.status != 0 && !run.crashed)
        #expect(run.error.contains("No space left on device"), "\(run.error)")

        #expect(shell(["mount", "-o", "remount,ro", directory]) == 0)
        let readOnly = try runFashionlab(["prepare", "--out", directory + "/samples.png"])
        #expect(readOnly.status != 0 && readOnly.error.contains("Read-only file system"), "\(readOnly.error)")
    }
}

/// Without an NVIDIA driver, `--device cuda` says what is missing and where it looked; `auto` uses the CPU.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: fashionlabBinary) && !FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/libcuda.so.1"),
                "this machine has an NVIDIA driver"))
struct DeviceSelectionTests {
    @Test func cudaWithoutADriverIsAClearError() throws {
        let result = try runFashionlab(["train", "--device", "cuda", "--epochs", "1"])
        #expect(result.status != 0 && !result.crashed)
        #expect(result.error.contains("--device cuda: CUDA is not available: no NVIDIA driver: libcuda.so.1 not found (looked in:"), "\(result.error)")
    }

    @Test(.enabled(if: dataAvailable, "needs the dataset"))
    func autoFallsBackToTheCPUAndSaysSo() throws {
        let out = TestFiles.newPath("auto")
        let result = try runFashionlab(["train", "--device", "auto", "--subset", "300", "--hidden", "8", "--epochs", "1", "--out", out])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("Device: CPU (auto: CUDA is not available"))
        #expect(try String(contentsOfFile: out + "/report.html", encoding: .utf8).contains("CPU (auto: CUDA is not available"))
    }
}

/// `--recipe cnn` on a few images: the recipe's settings and the measured normalisation reach the run's
/// files, and `evaluate` encodes the test images the same way (it reproduces the run's last accuracy).
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct RecipeTests {
    @Test func cnnRecipeRecordsItsSettings() throws {
        let root = TestFiles.newPath("recipe")
        let train = try runFashionlab(["train", "--recipe", "cnn", "--subset", "128", "--seed", "3", "--out", root, "--json"])
        #expect(train.status == 0, "\(train.error)")
        let metrics = try String(contentsOfFile: root + "/metrics.json", encoding: .utf8)
        for fragment in ["\"model\":\"cnn\"", "\"batchSize\":64", "\"oneCycle\"", "\"normalization\"", "\"trainingMetrics\":\"batches\""] {
            #expect(metrics.replacingOccurrences(of: " ", with: "").contains(fragment), "metrics.json lacks \(fragment)")
        }
        let lastAccuracy = try #require(train.output.split(separator: "\n").last { $0.contains("\"epoch\":6") })
        let evaluation = try runFashionlab(["evaluate", root, "--out", root + "/eval", "--json"])
        #expect(evaluation.status == 0, "\(evaluation.error)")
        let accuracy = try #require(lastAccuracy.split(separator: ",").first { $0.contains("validationAccuracy") }?.split(separator: ":").last)
        #expect(evaluation.output.contains("\"accuracy\":\(accuracy)"), "evaluate: \(evaluation.output.prefix(300)) vs the run's \(accuracy)")
    }
}

/// `evaluate` and `predict` on a small trained run.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct EvaluatePredictTests {
    @Test func evaluateWritesItsFilesAndPredictClassifiesAPicture() throws {
        let root = TestFiles.newPath("evaluate")
        let train = try runFashionlab(["train", "--subset", "5000", "--hidden", "64", "--optimizer", "adam", "--lr", "0.003", "--epochs", "2", "--out", root + "/run", "--quiet"])
        #expect(train.status == 0, "\(train.error)")
        let evaluation = try runFashionlab(["evaluate", root + "/run", "--out", root + "/eval", "--json"])
        #expect(evaluation.status == 0, "\(evaluation.error)")
        #expect(evaluation.output.contains("\"accuracy\""))
        for file in ["confusion.svg", "confusion.txt", "misclassified.png", "evaluation.json"] {
            #expect(FileManager.default.fileExists(atPath: root + "/eval/" + file), "\(file)")
        }
        let flipped = try runFashionlab(["evaluate", root + "/run", "--tta", "flip", "--out", root + "/eval-flip", "--json"])
        #expect(flipped.status == 0 && flipped.output.contains("\"testTimeAugmentation\":\"flip\""), "\(flipped.error)")
        let rotated = try runFashionlab(["evaluate", root + "/run", "--tta", "rotate", "--out", root + "/eval-rotate"])
        #expect(rotated.status != 0 && rotated.error.contains("--tta"), "\(rotated.error)")
        // The checkpoint file works as a model too.
        #expect(try runFashionlab(["evaluate", root + "/run/model.safetensors", "--out", root + "/eval2", "--json"]).status == 0)
        // Without --out the files go beside the model: into the run directory, or the directory of the .safetensors file
        // (the current directory for a bare file name); nothing is written where the command runs from otherwise.
        let files = ["confusion.svg", "confusion.txt", "misclassified.png", "evaluation.json"]
        let inRun = try runFashionlab(["evaluate", root + "/run"], directory: root)
        #expect(inRun.status == 0, "\(inRun.error)")
        #expect(inRun.output.contains("and evaluation.json in \(root)/run\n"), "\(inRun.output.suffix(200))")
        for file in files { #expect(FileManager.default.fileExists(atPath: root + "/run/" + file), "run/\(file)") }
        #expect(!FileManager.default.fileExists(atPath: root + "/evaluation"))
        let savedReport = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/run/evaluation.json"))) as? [String: Any]
        #expect(savedReport?["model"] as? String == root + "/run")
        try FileManager.default.createDirectory(atPath: root + "/copy", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root + "/run/model.safetensors", toPath: root + "/copy/model.safetensors")
        #expect(try runFashionlab(["evaluate", root + "/copy/model.safetensors", "--json"]).status == 0)
        for file in files { #expect(FileManager.default.fileExists(atPath: root + "/copy/" + file), "copy/\(file)") }
        try FileManager.default.createDirectory(atPath: root + "/bare", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root + "/run/model.safetensors", toPath: root + "/bare/model.safetensors")
        #expect(try runFashionlab(["evaluate", "model.safetensors", "--json"], directory: root + "/bare").status == 0)
        for file in files { #expect(FileManager.default.fileExists(atPath: root + "/bare/" + file), "bare/\(file)") }

        // A picture: a bright square on black, as PGM.
        var pixels = [UInt8](repeating: 0, count: 100 * 100)
        for y in 30..<70 { for x in 30..<70 { pixels[y * 100 + x] = 200 } }
        _ = FileManager.default.createFile(atPath: root + "/square.pgm", contents: Data(Array("P5 100 100 255\n".utf8) + pixels))
        let prediction = try runFashionlab(["predict", root + "/run", root + "/square.pgm", "--json", "--show-input", root + "/input.png"])
        #expect(prediction.status == 0, "\(prediction.error)")
        #expect(prediction.output.contains("\"top\"") && prediction.output.contains("\"probability\""))
        #expect(FileManager.default.fileExists(atPath: root + "/input.png"))

        let bad = try runFashionlab(["predict", root + "/run", root + "/square.jpg"])
        #expect(bad.status != 0 && bad.error.contains(root + "/square.jpg: no such file"))
        _ = FileManager.default.createFile(atPath: root + "/photo.jpg", contents: Data([0xFF, 0xD8, 0xFF, 0xE0]))
        let jpeg = try runFashionlab(["predict", root + "/run", root + "/photo.jpg"])
        #expect(jpeg.status != 0 && jpeg.error.contains(root + "/photo.jpg: ") && jpeg.error.contains("JPEG"), "\(jpeg.error)")
        let noModel = try runFashionlab(["evaluate", root + "/nothing"])
        #expect(noModel.status != 0 && noModel.error.contains(root + "/nothing: no such file or directory"))
    }
}

/// A model whose outputs are not finite, as an attacker (or a diverged run) leaves one: its weights NaN, infinite,
/// or finite but so large that the sums overflow. `evaluate` reports it honestly (no class predicted for those
/// images, a NaN loss, valid JSON and files), `predict` refuses each picture with a clear message and exit 1.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: fashionlabBinary), "needs the dataset and the binary"))
struct NonFiniteModelTests {
    /// `model`'s safetensors bytes with every value of tensor `name` replaced by `value`.
    static func poisoned(_ model: Data, tensor name: String, with value: Float) throws -> Data {
        var bytes = [UInt8](model)
        let headerLength = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as! [String: Any]
        let offsets = (header[name] as! [String: Any])["data_offsets"] as! [Int]
        for offset in stride(from: 8 + headerLength + offsets[0], to: 8 + headerLength + offsets[1], by: 4) {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { for (i, byte) in $0.enumerated() { bytes[offset + i] = byte } }
        }
        return Data(bytes)
    }

    @Test func evaluateReportsItAndPredictRefusesIt() throws {
        let root = TestFiles.newPath("non-finite")
        let train = try runFashionlab(["train", "--subset", "1000", "--hidden", "16", "--epochs", "1", "--out", root + "/run", "--quiet"])
        #expect(train.status == 0, "\(train.error)")
        let model = try Data(contentsOf: URL(fileURLWithPath: root + "/run/model.safetensors"))
        var pixels = [UInt8](repeating: 0, count: 100 * 100)
        for y in 30..<70 { for x in 30..<70 { pixels[y * 100 + x] = 200 } }
        _ = FileManager.default.createFile(atPath: root + "/square.pgm", contents: Data(Array("P5 100 100 255\n".utf8) + pixels))
        for (name, tensor, value) in [("nan", "2.bias", Float.nan), ("inf", "2.bias", .infinity), ("huge", "0.weight", .greatestFiniteMagnitude)] {
            let file = root + "/\(name).safetensors"
            try Self.poisoned(model, tensor: tensor, with: value).write(to: URL(fileURLWithPath: file))
            let evaluation = try runFashionlab(["evaluate", file, "--out", root + "/eval-" + name])
            #expect(evaluation.status == 0 && !evaluation.crashed, "\(name): \(evaluation.error)")
            #expect(evaluation.output.contains("10000 of 10000 images got outputs that are not finite"), "\(name): \(evaluation.output.prefix(400))")
            let saved = try Data(contentsOf: URL(fileURLWithPath: root + "/eval-\(name)/evaluation.json"))
            let report = try JSONSerialization.jsonObject(with: saved) as? [String: Any]
            #expect(report?["unpredicted"] as? Int == 10000, "\(name)")
            let json = try runFashionlab(["evaluate", file, "--out", root + "/eval-json-" + name, "--json"])
            #expect(json.status == 0 && (try? JSONSerialization.jsonObject(with: Data(json.output.utf8))) != nil, "\(name): \(json.output.prefix(300)) \(json.error)")
            let prediction = try runFashionlab(["predict", file, root + "/square.pgm", "--json"])
            #expect(prediction.status == 1 && !prediction.crashed, "\(name): \(prediction.status)")
            #expect(prediction.output.contains("the model's outputs for it are not finite"), "\(name): \(prediction.output)")
            #expect(!prediction.output.contains("EncodingError") && !prediction.error.contains("EncodingError"))
        }
    }
}

/// Two processes writing the same run directory: the second is refused with a clear message.
@Suite(.enabled(if: dataAvailable && FileManager.default.isExecutableFile(atPath: "/usr/bin/flock"), "needs the dataset and flock(1)"))
struct SharedOutputTests {
    @Test func aBusyRunDirectoryIsRefused() throws {
        let directory = TestFiles.newDirectory("busy")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [directory + "/.fashionlab.lock", "sleep", "20"]
        try holder.run()
        defer { holder.terminate() }
        usleep(300_000)
        let result = try runFashionlab(["train", "--subset", "200", "--hidden", "8", "--epochs", "1", "--out", directory])
        #expect(result.status != 0 && result.error.contains("another FashionLab process is writing this run"), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/metrics.json"))
    }
}
