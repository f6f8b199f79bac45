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

@Suite(.enabled(if: referenceAvailable, "PyTorch reference files are not in \(referenceDirectory)"))
struct PyTorchReferenceTests {
    static let train: Dataset? = try? FashionMNISTLoader.load(directory: "/usr/share/datasets/fashion-mnist").train

    @Test(arguments: ReferenceCheck.caseNames)
    func forwardBackwardAndSteps(name: String) throws {
        for backend in presentBackends {
            let measurements = try ReferenceCheck.run(referenceDirectory + "/\(name).safetensors", train: Self.train, backend: backend)
            #expect(measurements.count >= 7)
            for measurement in measurements {
                print("\(backend.name) \(name): \(measurement.quantity) max relative error \(measurement.error) (tolerance \(measurement.tolerance))")
                #expect(measurement.passed, "\(backend.name) \(name): \(measurement.quantity) \(measurement.error) ≥ \(measurement.tolerance)")
            }
        }
    }

    /// A damaged reference file gets an error that names it, not a crash.
    @Test func missingTensorIsReported() throws {
        let directory = TestFiles.newDirectory("reference")
        var file = Safetensors()
        file.metadata = ["optimizer": "sgd", "lr": "0.01", "steps": "1", "scale": "True", "first_index": "0"]
        try file.write(to: directory + "/broken.safetensors")
        #expect(throws: ReferenceCheckError.self) { try ReferenceCheck.run(directory + "/broken.safetensors", train: nil, backend: .cpu) }
    }
}
