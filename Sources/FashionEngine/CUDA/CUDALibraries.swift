import Foundation

/// The C functions of the CUDA driver API, NVRTC and cuBLAS that FashionLab calls, looked up with
/// `dlsym` in the libraries `CUDAProbe` found: nothing from CUDA is needed to build.
///
/// Device pointers (`CUdeviceptr`) are 64-bit integers in the driver API; cuBLAS takes them as
/// `float*`, which the C calling convention passes the same way, so both are declared `UInt64`.
struct CUDALibraries {
    typealias Status = Int32

    // Driver API (libcuda.so.1).
    let cuInit: @convention(c) (UInt32) -> Status
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Status
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Status
    let cuDeviceTotalMem: @convention(c) (UnsafeMutablePointer<Int>, Int32) -> Status
    let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32) -> Status
    let cuCtxSetCurrent: @convention(c) (OpaquePointer?) -> Status
    let cuCtxSynchronize: @convention(c) () -> Status
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<UInt64>, Int) -> Status
    let cuMemFree: @convention(c) (UInt64) -> Status
    let cuMemcpyHtoD: @convention(c) (UInt64, UnsafeRawPointer, Int) -> Status
    let cuMemcpyDtoH: @convention(c) (UnsafeMutableRawPointer, UInt64, Int) -> Status
    let cuMemsetD8: @convention(c) (UInt64, UInt8, Int) -> Status
    let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> Status
    let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> Status
    let cuLaunchKernel: @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                                        OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Status
    let cuGetErrorString: @convention(c) (Status, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Status

    // NVRTC (libnvrtc.so.*).
    let nvrtcCreateProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>, Int32,
                                            UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Status
    let nvrtcCompileProgram: @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Status
    let nvrtcGetProgramLogSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Status
    let nvrtcGetProgramLog: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Status
    let nvrtcGetCUBINSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Status
    let nvrtcGetCUBIN: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Status
    let nvrtcGetPTXSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Status
    let nvrtcGetPTX: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Status
    let nvrtcDestroyProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Status
    let nvrtcGetErrorString: @convention(c) (Status) -> UnsafePointer<CChar>?

    // cuBLAS (libcublas.so.*), column-major.
    let cublasCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Status
    let cublasSgemm: @convention(c) (OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>, UInt64, Int32,
                                     UInt64, Int32, UnsafePointer<Float>, UInt64, Int32) -> Status

    /// Looks every function up in the libraries at `paths` (`libcuda`, `libnvrtc`, `libcublas` → path).
    init(paths: [String: String]) throws {
        func open(_ library: String) throws -> UnsafeMutableRawPointer {
            guard let path = paths[library], let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
                throw CUDAError(message: "cannot load \(library) (\(paths[library] ?? "not found"))")
            }
            return handle
        }
        let driver = try open("libcuda"), nvrtc = try open("libnvrtc"), cublas = try open("libcublas")
        func symbol<T>(_ handle: UnsafeMutableRawPointer, _ name: String, _ library: String) throws -> T {
            guard let address = dlsym(handle, name) else {
                throw CUDAError(message: "\(paths[library] ?? library) has no \(name)")
            }
            return unsafeBitCast(address, to: T.self)
        }
        cuInit = try symbol(driver, "cuInit", "libcuda")
        cuDeviceGet = try symbol(driver, "cuDeviceGet", "libcuda")
        cuDeviceGetAttribute = try symbol(driver, "cuDeviceGetAttribute", "libcuda")
        cuDeviceTotalMem = try symbol(driver, "cuDeviceTotalMem_v2", "libcuda")
        cuDevicePrimaryCtxRetain = try symbol(driver, "cuDevicePrimaryCtxRetain", "libcuda")
        cuCtxSetCurrent = try symbol(driver, "cuCtxSetCurrent", "libcuda")
        cuCtxSynchronize = try symbol(driver, "cuCtxSynchronize", "libcuda")
        cuMemAlloc = try symbol(driver, "cuMemAlloc_v2", "libcuda")
        cuMemFree = try symbol(driver, "cuMemFree_v2", "libcuda")
        cuMemcpyHtoD = try symbol(driver, "cuMemcpyHtoD_v2", "libcuda")
        cuMemcpyDtoH = try symbol(driver, "cuMemcpyDtoH_v2", "libcuda")
        cuMemsetD8 = try symbol(driver, "cuMemsetD8_v2", "libcuda")
        cuModuleLoadData = try symbol(driver, "cuModuleLoadData", "libcuda")
        cuModuleGetFunction = try symbol(driver, "cuModuleGetFunction", "libcuda")
        cuLaunchKernel = try symbol(driver, "cuLaunchKernel", "libcuda")
        cuGetErrorString = try symbol(driver, "cuGetErrorString", "libcuda")
        nvrtcCreateProgram = try symbol(nvrtc, "nvrtcCreateProgram", "libnvrtc")
        nvrtcCompileProgram = try symbol(nvrtc, "nvrtcCompileProgram", "libnvrtc")
        nvrtcGetProgramLogSize = try symbol(nvrtc, "nvrtcGetProgramLogSize", "libnvrtc")
        nvrtcGetProgramLog = try symbol(nvrtc, "nvrtcGetProgramLog", "libnvrtc")
        nvrtcGetCUBINSize = try symbol(nvrtc, "nvrtcGetCUBINSize", "libnvrtc")
        nvrtcGetCUBIN = try symbol(nvrtc, "nvrtcGetCUBIN", "libnvrtc")
        nvrtcGetPTXSize = try symbol(nvrtc, "nvrtcGetPTXSize", "libnvrtc")
        nvrtcGetPTX = try symbol(nvrtc, "nvrtcGetPTX", "libnvrtc")
        nvrtcDestroyProgram = try symbol(nvrtc, "nvrtcDestroyProgram", "libnvrtc")
        nvrtcGetErrorString = try symbol(nvrtc, "nvrtcGetErrorString", "libnvrtc")
        cublasCreate = try symbol(cublas, "cublasCreate_v2", "libcublas")
        cublasSgemm = try symbol(cublas, "cublasSgemm_v2", "libcublas")
    }
}

/// A CUDA call that failed: which call, and the driver's, NVRTC's or cuBLAS's own words.
public struct CUDAError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}
