import ArgumentParser
import FashionEngine
import FashionTraining
import Foundation

/// `fashionlab verify`: checks this build's numbers against PyTorch's reference files on a backend.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare logits, losses, gradients and optimiser steps with PyTorch's reference files.",
        discussion: """
        The test suite's fidelity check as a command, for machines without a Swift toolchain (a GPU \
        machine given only the release binary): each quantity's max |a − b| / max |b| against GUIDE §4's \
        tolerance. Without --reference it runs the cases committed in the package \
        (\(ReferenceCheck.committedCasesPath), written by scripts/make_reference_steps.py), found above the \
        program's folder, above the working directory or in the checkout it was built from; they need no \
        dataset. Exits with status 1 when one is over.
        """)

    @Option(help: ArgumentHelp("Directory of reference files: every *.safetensors in it is run (e.g. ../shared/reference, whose later steps read the training set). Default: the committed cases.",
                               valueName: "DIR"))
    var reference: String?

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @Flag(help: "Print the measurements as one JSON object.")
    var json = false

    struct Report: Encodable {
        let backend: String
        let cases: [String: [ReferenceCheck.Measurement]]
        let failures: Int
    }

    /// The reference files to run: every `.safetensors` in `--reference`, or the committed cases.
    func referenceFiles() throws -> [String] {
        if let reference {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: reference)) ?? []
            let files = names.filter { $0.hasSuffix(".safetensors") }.sorted()
            guard !files.isEmpty else { throw ValidationError("--reference \(reference): no .safetensors files there") }
            return files.map { reference + "/" + $0 }
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        guard let directory = ReferenceCheck.committedCasesDirectory(searchingAbove: [executable, FileManager.default.currentDirectoryPath]) else {
            throw ValidationError("the committed reference cases (\(ReferenceCheck.committedCasesPath)) are not above \(executable), the working "
                                  + "directory or the checkout this program was built from: give --reference DIR")
        }
        return ReferenceCheck.committedCaseNames.map { directory + "/" + $0 + ".safetensors" }
    }

    func run() throws {
        let (backend, _) = try deviceOptions.select(quiet: json)
        let files = try referenceFiles()
        // The training set only when a file needs it (the shared files' later steps); the committed cases carry their images.
        let needsData = try files.contains(where: ReferenceCheck.needsTrainingSet)
        let train = needsData ? try dataOptions.load(quiet: json).train : nil
        var results: [String: [ReferenceCheck.Measurement]] = [:]
        var failures = 0
        for path in files {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path) is missing") }
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let measurements = try ReferenceCheck.run(path, train: train, backend: backend)
            results[name] = measurements
            failures += measurements.filter { !$0.passed }.count
            if !json {
                print("\(name) on \(backend.name):")
                for measurement in measurements {
                    let quantity = measurement.quantity.padding(toLength: 48, withPad: " ", startingAt: 0)
                    print("  \(measurement.passed ? "ok  " : "FAIL") \(quantity) " + String(format: "%.2e (tolerance %.0e)", measurement.error, measurement.tolerance))
                }
            }
        }
        if json {
            try Terminal.printJSON(Report(backend: backend.name, cases: results, failures: failures))
        } else {
            print(failures == 0 ? "All quantities within tolerance." : "\(failures) quantities over tolerance.")
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
