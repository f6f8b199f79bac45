import Foundation
import Testing
import FashionData
import FashionEngine
import FashionTraining
import FashionTestSupport

/// `../shared/reference/*.safetensors`: PyTorch's own numbers for the notebook's MLP (see `ReferenceCheck`).
/// FashionLab must agree within GUIDE §4's tolerances on every backend present: the CPU always, CUDA
/// when this machine has a usable NVIDIA GPU.
let referenceDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/reference").path
let referenceAvailable = FileManager.default.fileExists(atPath: referenceDirectory + "/mlp_sgd_1step.safetensors")

/// The backends to check: the CPU; the GPU when this machine has one; and the GPU code paths on the CPU
/// (`CUDADevice.hostEmulation`, the kernels compiled by clang) when clang is there.
let presentBackends: [ComputeBackend] = {
    var backends: [ComputeBackend] = [.cpu]
    if let gpu = try? CUDADevice.shared.get() { backends.append(.cuda(gpu)) }
    if let emulation = try? CUDADevice.hostEmulation.get() { backends.append(.cuda(emulation)) }
    return backends
}()

/// The CUDA backends among them.
let cudaDevices: [CUDADevice] = presentBackends.compactMap { if case .cuda(let device) = $0 { device } else { nil } }

/// The committed cases (`Fixtures/reference`, written by `scripts/make_reference_steps.py`): in every clone.
let committedReferenceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/reference").path

/// The training set, when this machine has it: the shared files' later steps read it, and the committed
/// cases' images are checked against it.
let referenceTrainingSet: Dataset? = try? FashionMNISTLoader.load(directory: "/usr/share/datasets/fashion-mnist").train

/// Runs one case on every backend present, printing each measurement, and expects all within tolerance.
func expectWithinTolerance(_ path: String, _ name: String, train: Dataset?, minimumCount: Int) throws {
    for backend in presentBackends {
        let measurements = try ReferenceCheck.run(path, train: train, backend: backend)
        #expect(measurements.count >= minimumCount, "\(backend.name) \(name): \(measurements.count) quantities")
        for measurement in measurements {
            print("\(backend.name) \(name): \(measurement.quantity) max relative error \(measurement.error) (tolerance \(measurement.tolerance))")
            #expect(measurement.passed, "\(backend.name) \(name): \(measurement.quantity) \(measurement.error) ≥ \(measurement.tolerance)")
        }
    }
}

/// The committed cases: never skipped, a missing file is a failure. The CPU always, and the GPU code path
/// (a GPU when present, the host emulation where clang is).
@Suite struct CommittedReferenceTests {
    @Test(arguments: ReferenceCheck.committedCaseNames)
    func forwardBackwardAndSteps(name: String) throws {
        let path = committedReferenceDirectory + "/\(name).safetensors"
        try #require(FileManager.default.fileExists(atPath: path), "committed reference case \(path) is missing")
        let file = try Safetensors.read(path)
        let parameterCount = file.names.filter { $0.hasPrefix("init.") }.count
        let steps = Int(file.metadata["steps"] ?? "") ?? 0
        // logits, a loss per step, a gradient and a final value per parameter.
        try expectWithinTolerance(path, name, train: referenceTrainingSet, minimumCount: 1 + steps + 2 * parameterCount)
    }

    /// Every file in the folder is in the list (so none is silently left out), and the GPU code path is tested
    /// where this machine can.
    @Test func everyCommittedFileIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: committedReferenceDirectory).filter { $0.hasSuffix(".safetensors") }
        #expect(Set(files) == Set(ReferenceCheck.committedCaseNames.map { $0 + ".safetensors" }))
        #expect(ReferenceCheck.committedCasesDirectory(searchingAbove: [committedReferenceDirectory]) != nil)
    }

    /// A deliberately wrong step is caught: the learning rate off by 1% moves the weights after SGD by more
    /// than the tolerance.
    @Test func aWrongLearningRateIsCaught() throws {
        let source = try Safetensors.read(committedReferenceDirectory + "/mlp32_sgd_1step.safetensors")
        var file = Safetensors()
        for name in source.names { file.set(name, source[name]!) }
        file.metadata = source.metadata
        file.metadata["lr"] = "0.0101"
        let path = TestFiles.newDirectory("reference") + "/wrong_lr.safetensors"
        try file.write(to: path)
        let failed = try ReferenceCheck.run(path, train: nil, backend: .cpu).filter { !$0.passed }.map(\.quantity)
        #expect(failed.contains("0.weight after 1 step(s)"), "\(failed)")
        #expect(!failed.contains("logits"))
    }
}

/// `../shared/reference`: PyTorch's numbers for the notebook's MLP 784→1000→10, where this checkout has them.
@Suite(.enabled(if: referenceAvailable, "PyTorch reference files are not in \(referenceDirectory)"))
struct PyTorchReferenceTests {
    @Test(arguments: ReferenceCheck.caseNames)
    func forwardBackwardAndSteps(name: String) throws {
        try expectWithinTolerance(referenceDirectory + "/\(name).safetensors", name, train: referenceTrainingSet, minimumCount: 7)
    }
}

/// A damaged reference file gets an error that names it, not a crash.
@Suite struct DamagedReferenceTests {
    @Test func missingTensorIsReported() throws {
        let directory = TestFiles.newDirectory("reference")
        var file = Safetensors()
        file.metadata = ["optimizer": "sgd", "lr": "0.01", "steps": "1", "scale": "True", "first_index": "0"]
        try file.write(to: directory + "/broken.safetensors")
        #expect(throws: ReferenceCheckError.self) { try ReferenceCheck.run(directory + "/broken.safetensors", train: nil, backend: .cpu) }
    }

    /// A committed case whose model does not fit its weights, or names an unknown layer, is an error.
    @Test func mismatchedModelIsReported() throws {
        let source = try Safetensors.read(committedReferenceDirectory + "/mlp32_sgd_1step.safetensors")
        for model in [#"{"input_shape":[784],"layers":[{"type":"Linear","in_features":784,"out_features":33},{"type":"ReLU"},{"type":"Linear","in_features":33,"out_features":10}]}"#,
                      #"{"input_shape":[784],"layers":[{"type":"Softmax"}]}"#, "not json"] {
            var file = Safetensors()
            for name in source.names { file.set(name, source[name]!) }
            file.metadata = source.metadata
            file.metadata["model"] = model
            let path = TestFiles.newDirectory("reference") + "/model.safetensors"
            try file.write(to: path)
            #expect(throws: ReferenceCheckError.self) { try ReferenceCheck.run(path, train: nil, backend: .cpu) }
        }
    }
}
