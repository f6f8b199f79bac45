import ArgumentParser
import FashionCore
import FashionData
import FashionEngine
import Foundation

/// `--data DIR`, shared by every command that reads Fashion-MNIST.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Directory with the four Fashion-MNIST files (.gz or plain): the only one searched, and where missing files are downloaded. Default: $FASHIONLAB_DATA (the same), else the user cache, then /usr/share/datasets/fashion-mnist; downloaded into the cache when neither has them.",
        valueName: "DIR"))
    var data: String?

    /// Finds (or downloads) and loads the dataset, drawing download progress on a terminal.
    func load(quiet: Bool = false) throws -> FashionMNISTData {
        try Self.load(from: data, quiet: quiet)
    }

    /// Finds (or downloads) and loads the dataset from `data` (nil: the default search), drawing download
    /// progress on a terminal.
    static func load(from data: String?, quiet: Bool = false) throws -> FashionMNISTData {
        let progress: DownloadProgress = { received, expected in
            let megabytes = String(format: "%.1f MB", Double(received) / 1e6)
            if let expected, expected > 0 {
                Terminal.drawBar("downloading", fraction: Double(received) / Double(expected), detail: megabytes)
            } else {
                Terminal.drawBar("downloading", fraction: 0, detail: megabytes)
            }
        }
        let loader = FashionMNISTLoader(
            locator: DataLocator(explicitDirectory: data),
            progress: progress,
            log: { message in
                Terminal.endBar()
                if !quiet { Terminal.note(message) }
            })
        do {
            return try loader.load()
        } catch let interrupted as DownloadInterrupted {
            Terminal.endBar()
            Terminal.note("Error: \(interrupted)")
            throw ExitCode(130)  // as a program stopped by Ctrl-C ends
        }
    }
}

/// `--threads N`, shared by every command that trains or measures.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for FashionLab's loops and the BLAS (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...Threads.maximum).contains(threads) {
            throw ValidationError("--threads must be 1 to \(Threads.maximum), got \(threads)")
        }
    }

    /// Sets the thread count for this process.
    func apply() {
        guard let threads else { return }
        Threads.count = threads
        BLAS.shared.setThreadCount(threads)
    }
}

extension DeviceChoice: ExpressibleByArgument {}

/// `--device auto|cpu|cuda`, shared by every command that trains or measures.
struct DeviceOptions: ParsableArguments {
    @Option(help: "Where to compute: auto (CUDA when usable, else the CPU), cpu or cuda.")
    var device = DeviceChoice.auto

    /// Resolves the choice: the backend, and the line that says which device and why (for reports),
    /// printed unless `quiet`.
    func select(quiet: Bool) throws -> (backend: ComputeBackend, note: String) {
        try Self.select(device, quiet: quiet)
    }

    /// Resolves `device` as ``select(quiet:)`` does.
    static func select(_ device: DeviceChoice, quiet: Bool) throws -> (backend: ComputeBackend, note: String) {
        let (backend, note) = try device.resolve()
        if !quiet { Terminal.note("Device: " + note) }
        return (backend, note)
    }
}

/// `--seeds 0,1,2`: every run repeated once per seed; reports then show each setting's mean ± standard deviation.
struct SeedOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Repeat every run once per seed (comma-separated, e.g. 0,1,2,3,4); the report shows each setting's mean ± standard deviation and range, and the curves a band.", valueName: "LIST"))
    var seeds: String?

    /// The seeds given, nil without the flag.
    var list: [UInt64]? {
        get throws {
            guard let seeds else { return nil }
            let parsed = seeds.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.count <= 100, parsed.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--seeds '\(seeds)' must be 1 to 100 non-negative integers separated by commas")
            }
            guard Set(parsed).count == parsed.count else { throw ValidationError("--seeds '\(seeds)' names a seed twice") }
            return parsed.map { $0! }
        }
    }

    func validate() throws { _ = try list }
}
