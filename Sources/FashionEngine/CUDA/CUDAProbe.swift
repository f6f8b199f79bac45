import Foundation

/// Looks for a usable NVIDIA GPU at run time: the CUDA driver (`libcuda.so.1`), cuBLAS and NVRTC, in the
/// standard library paths, `$CUDA_HOME`, `$LD_LIBRARY_PATH` and the NVIDIA wheels of Python environments
/// (`…/site-packages/nvidia/*/lib`). Nothing CUDA is needed to build FashionLab.
public enum CUDAProbe {
    /// What was found.
    public struct Found: Sendable {
        public let deviceName: String
        public let deviceCount: Int
        public let driverVersion: Int
        /// Library name → the path or name that loaded.
        public let libraries: [String: String]
    }

    /// Why CUDA cannot be used: what was missing and where FashionLab looked.
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public let searched: [String]
        public var description: String {
            searched.isEmpty ? reason : "\(reason) (looked in: \(searched.joined(separator: ", ")))"
        }
    }

    /// Directories searched for the CUDA libraries, in order (the loader's own search comes first).
    public static func searchDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var directories: [String] = []
        if let cudaHome = environment["CUDA_HOME"] ?? environment["CUDA_PATH"] { directories += [cudaHome + "/lib64", cudaHome + "/lib"] }
        directories += (environment["LD_LIBRARY_PATH"] ?? "").split(separator: ":").map(String.init)
        directories += ["/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib"]
        directories += pythonWheelDirectories(environment: environment)
        var seen = Set<String>()
        return directories.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// `nvidia/*/lib` folders of the Python environments on this machine (pip's CUDA wheels): the system's,
    /// the user's, pyenv's, `$VIRTUAL_ENV`'s, and those whose `bin` is on the `PATH` (a virtual environment
    /// used without activating it, like `/opt/torch/.venv/bin`).
    static func pythonWheelDirectories(environment: [String: String]) -> [String] {
        var roots = ["/usr/local/lib", "/usr/lib"]
        if let home = environment["HOME"] { roots += [home + "/.local/lib"] + subdirectories(home + "/.pyenv/versions").map { $0 + "/lib" } }
        if let venv = environment["VIRTUAL_ENV"] { roots.append(venv + "/lib") }
        for directory in (environment["PATH"] ?? "").split(separator: ":") where directory.hasSuffix("/bin") {
            roots.append(String(directory.dropLast(4)) + "/lib")
        }
        var found: [String] = []
        for root in roots {
            for python in subdirectories(root) where URL(fileURLWithPath: python).lastPathComponent.hasPrefix("python3") {
                for packages in ["site-packages", "dist-packages"] {
                    found += subdirectories(python + "/" + packages + "/nvidia").map { $0 + "/lib" }
                }
            }
        }
        return found
    }

    private static func subdirectories(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
    }

    /// Opens the first of `names` that loads, by the loader's search or in `directories`.
    static func open(_ names: [String], in directories: [String]) -> (handle: UnsafeMutableRawPointer, path: String)? {
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) { return (handle, name) }
        }
        for directory in directories {
            for name in names {
                let path = directory + "/" + name
                guard FileManager.default.fileExists(atPath: path), let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else { continue }
                return (handle, path)
            }
        }
        return nil
    }

    /// Probes once per process.
    public static let result: Result<Found, Unavailable> = probe()

    static func probe(environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<Found, Unavailable> {
        let directories = searchDirectories(environment: environment)
        guard let driver = open(["libcuda.so.1", "libcuda.so"], in: directories) else {
            return .failure(Unavailable(reason: "no NVIDIA driver: libcuda.so.1 not found", searched: ["the loader's default paths"] + directories))
        }
        typealias Init = @convention(c) (UInt32) -> Int32
        typealias Count = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
        typealias Name = @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32
        typealias Version = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
        guard let initSymbol = dlsym(driver.handle, "cuInit"), let countSymbol = dlsym(driver.handle, "cuDeviceGetCount"),
              let nameSymbol = dlsym(driver.handle, "cuDeviceGetName"), let versionSymbol = dlsym(driver.handle, "cuDriverGetVersion") else {
            return .failure(Unavailable(reason: "\(driver.path) lacks the CUDA driver API (cuInit, cuDeviceGetCount)", searched: []))
        }
        let status = unsafeBitCast(initSymbol, to: Init.self)(0)
        guard status == 0 else {
            let meaning = [100: "no CUDA-capable device", 35: "driver older than the CUDA runtime", 999: "unknown error"][Int(status)] ?? "error"
            return .failure(Unavailable(reason: "cuInit failed with CUDA error \(status) (\(meaning))", searched: []))
        }
        var count: Int32 = 0, version: Int32 = 0
        _ = unsafeBitCast(countSymbol, to: Count.self)(&count)
        _ = unsafeBitCast(versionSymbol, to: Version.self)(&version)
        guard count > 0 else { return .failure(Unavailable(reason: "the CUDA driver sees no device", searched: [])) }
        var name = [CChar](repeating: 0, count: 256)
        _ = unsafeBitCast(nameSymbol, to: Name.self)(&name, 255, 0)
        var libraries = ["libcuda": driver.path]
        for (library, names) in [("libcublas", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"]),
                                 ("libnvrtc", ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"])] {
            guard let opened = open(names, in: directories) else {
                return .failure(Unavailable(reason: "\(library) not found (\(names.joined(separator: ", ")))", searched: ["the loader's default paths"] + directories))
            }
            libraries[library] = opened.path
        }
        return .success(Found(deviceName: String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), deviceCount: Int(count), driverVersion: Int(version), libraries: libraries))
    }
}
