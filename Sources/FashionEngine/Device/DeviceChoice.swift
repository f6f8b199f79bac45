import Foundation
import FashionCore

/// Where training and evaluation compute.
public enum ComputeBackend: Sendable {
    case cpu
    case cuda(CUDADevice)

    /// "CPU" or the GPU's name.
    public var name: String {
        switch self {
        case .cpu: "CPU"
        case .cuda(let device): "CUDA (\(device.name))"
        }
    }

    /// The device's line for a run's output: `Backend: CPU; GEMM: OpenBLAS …; 2 threads` or `Backend: CUDA (…); GEMM: cuBLAS`.
    public var summary: String {
        switch self {
        case .cpu: "Backend: CPU; GEMM: \(BLAS.shared.summary); \(Threads.count) thread\(Threads.count == 1 ? "" : "s")"
        case .cuda: "Backend: \(name); GEMM: cuBLAS"
        }
    }

    /// What a run's directory name ends with on this backend (`-cuda` on a GPU), so runs on the two devices are
    /// kept apart.
    public var runDirectorySuffix: String {
        switch self {
        case .cpu: ""
        case .cuda: "-cuda"
        }
    }

    /// Whether independent runs (a study's) train side by side, one thread each: on the CPU; a GPU trains one
    /// at a time.
    public var trainsRunsSideBySide: Bool {
        switch self {
        case .cpu: true
        case .cuda: false
        }
    }

    /// This backend if it can run `model`, otherwise the CPU, with the reason.
    public func running(_ model: Sequential) -> (backend: ComputeBackend, fallback: String?) {
        guard case .cuda = self, let layer = CUDAModel.unsupportedLayer(in: model) else { return (self, nil) }
        return (.cpu, "the CUDA backend has no GPU version of \(layer); this model trains on the CPU")
    }
}

/// Where a command computes: `auto` (CUDA when usable, otherwise the CPU), `cpu` or `cuda`.
public enum DeviceChoice: String, Codable, Sendable, CaseIterable {
    case auto, cpu, cuda

    /// What the directories of runs trained on this device end with (``ComputeBackend/runDirectorySuffix``),
    /// known without the device (a report written on another machine than its runs); nil for `auto`.
    public var runDirectorySuffix: String? {
        switch self {
        case .cpu: ComputeBackend.cpu.runDirectorySuffix
        case .cuda: "-cuda"
        case .auto: nil
        }
    }

    /// The backend to use and a line explaining the choice; throws when `cuda` is asked for and
    /// cannot be used, with what was missing or failed and where FashionLab looked.
    public func resolve() throws -> (backend: ComputeBackend, note: String) {
        switch self {
        case .cpu:
            return (.cpu, "CPU (as asked)")
        case .auto, .cuda:
            // For development without a GPU: the GPU code paths on the CPU (slow; see CUDADevice.hostEmulation).
            if let emulate = ProcessInfo.processInfo.environment["FASHIONLAB_CUDA_EMULATION"], !emulate.isEmpty, emulate != "0" {
                let device = try CUDADevice.hostEmulation.mapError { DeviceError(message: "FASHIONLAB_CUDA_EMULATION: \($0)") }.get()
                return (.cuda(device), "CUDA: host emulation of the GPU code paths (FASHIONLAB_CUDA_EMULATION)")
            }
            switch CUDADevice.shared {
            case .failure(let error):
                if self == .cuda { throw DeviceError(message: "--device cuda: CUDA is not available: \(error)") }
                let reason = if case .failure(let unavailable) = CUDAProbe.result { unavailable.reason } else { error.message }
                return (.cpu, "CPU (auto: CUDA is not available: \(reason))")
            case .success(let device):
                let memory = device.memoryBytes / (1 << 30)
                let what = "\(device.name), compute capability \(device.computeCapability.major).\(device.computeCapability.minor), \(memory) GiB"
                return (.cuda(device), self == .cuda ? "CUDA: \(what) (as asked)" : "CUDA: \(what) (auto)")
            }
        }
    }
}

/// A device that cannot be used.
public struct DeviceError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
