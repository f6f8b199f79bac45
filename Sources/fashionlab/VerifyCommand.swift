import ArgumentParser
import FashionEngine
import FashionTraining
import Foundation

/// `fashionlab verify`: checks this build's numbers against PyTorch's reference files on a backend.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare logits, losses, gradients and optimiser steps of the notebook's MLP with PyTorch's reference files.",
        discussion: """
        The test suite's fidelity check as a command, for machines without a Swift toolchain (a GPU \
        machine given only the release binary): each quantity's max |a − b| / max |b| against GUIDE §4's \
        tolerance. Exits with status 1 when one is over.
        """)

    @Option(help: ArgumentHelp("Directory with mlp_sgd_1step.safetensors, mlp_adam_3steps.safetensors and mlp_adam_unscaled_2steps.safetensors.",
                               valueName: "DIR"))
    var reference: String

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var deviceOptions: DeviceOptions

    @Flag(help: "Print the measurements as one JSON object.")
    var json = false

    struct Report: Encodable {
        let backend: String
        let cases: [String: [ReferenceCheck.Measurement]]
        let failures: Int
    }

    func run() throws {
        let (backend, _) = try deviceOptions.select(quiet: json)
        let data = try dataOptions.load(quiet: json)
        var results: [String: [ReferenceCheck.Measurement]] = [:]
        var failures = 0
        for name in ReferenceCheck.caseNames {
            let path = reference + "/" + name + ".safetensors"
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("--reference \(reference): no \(name).safetensors there")
            }
            let measurements = try ReferenceCheck.run(path, train: data.train, backend: backend)
            results[name] = measurements
            failures += measurements.filter { !$0.passed }.count
            if !json {
                print("\(name) on \(backend.name):")
                for measurement in measurements {
                    let quantity = measurement.quantity.padding(toLength: 34, withPad: " ", startingAt: 0)
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
