import Foundation

/// libjpeg-turbo's TurboJPEG API, found at run time with `dlopen` (Debian: `libturbojpeg0`,
/// `libturbojpeg.so.0`; macOS: Homebrew's `jpeg-turbo`). Nothing of it is needed to build.
///
/// Only the decompression calls are used: `tjInitDecompress`, `tjDecompressHeader3`, `tjDecompress2`,
/// `tjGetErrorStr2` and `tjDestroy`.
public struct TurboJPEG: Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias InitDecompress = @convention(c) () -> Handle?
    typealias DecompressHeader3 = @convention(c) (
        Handle?, UnsafePointer<UInt8>?, UInt, UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?,
        UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    typealias Decompress2 = @convention(c) (
        Handle?, UnsafePointer<UInt8>?, UInt, UnsafeMutablePointer<UInt8>?, Int32, Int32, Int32, Int32, Int32) -> Int32
    typealias GetErrorStr2 = @convention(c) (Handle?) -> UnsafeMutablePointer<CChar>?
    typealias Destroy = @convention(c) (Handle?) -> Int32

    /// The library file that was loaded.
    public let library: String
    let initDecompress: InitDecompress
    let decompressHeader3: DecompressHeader3
    let decompress2: Decompress2
    let errorString: GetErrorStr2
    let destroy: Destroy

    // From turbojpeg.h.
    static let pixelFormatRGB: Int32 = 0    // TJPF_RGB
    static let pixelFormatGray: Int32 = 6   // TJPF_GRAY
    static let pixelFormatCMYK: Int32 = 11  // TJPF_CMYK
    static let colorspaceGray: Int32 = 2    // TJCS_GRAY
    static let colorspaceCMYK: Int32 = 3    // TJCS_CMYK
    static let colorspaceYCCK: Int32 = 4    // TJCS_YCCK
    static let flagStopOnWarning: Int32 = 8192  // TJFLAG_STOPONWARNING
    static let flagLimitScans: Int32 = 32768    // TJFLAG_LIMITSCANS: refuse progressive files of more than 500 scans

    /// The library this process uses, or nil when none was found (looked up once).
    public static let shared: TurboJPEG? = load(candidates: defaultCandidates)

    /// Where the library is looked for.
    public static var defaultCandidates: [String] {
        #if os(macOS)
        ["libturbojpeg.0.dylib", "/opt/homebrew/opt/jpeg-turbo/lib/libturbojpeg.0.dylib", "/usr/local/opt/jpeg-turbo/lib/libturbojpeg.0.dylib"]
        #else
        ["libturbojpeg.so.0", "libturbojpeg.so"]
        #endif
    }

    /// The first of `candidates` that loads and has every function used, or nil.
    public static func load(candidates: [String]) -> TurboJPEG? {
        for path in candidates {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { continue }
            func symbol<T>(_ name: String, as type: T.Type) -> T? {
                dlsym(handle, name).map { unsafeBitCast($0, to: type) }
            }
            guard let initDecompress = symbol("tjInitDecompress", as: InitDecompress.self),
                  let header = symbol("tjDecompressHeader3", as: DecompressHeader3.self),
                  let decompress = symbol("tjDecompress2", as: Decompress2.self),
                  let errorString = symbol("tjGetErrorStr2", as: GetErrorStr2.self),
                  let destroy = symbol("tjDestroy", as: Destroy.self)
            else { dlclose(handle); continue }
            return TurboJPEG(library: path, initDecompress: initDecompress, decompressHeader3: header, decompress2: decompress,
                             errorString: errorString, destroy: destroy)
        }
        return nil
    }

    /// What a JPEG's header says: its size and how its colours are stored.
    struct Header {
        let width: Int, height: Int
        /// The JPEG's colour space (TJCS_*).
        let colorspace: Int32
        var isGray: Bool { colorspace == TurboJPEG.colorspaceGray }
        /// CMYK or YCCK (Adobe's CMYK): decoded as CMYK samples, converted by the caller.
        var isCMYK: Bool { colorspace == TurboJPEG.colorspaceCMYK || colorspace == TurboJPEG.colorspaceYCCK }
    }

    /// Decodes `bytes` to 8-bit samples, rows top to bottom, as stored (EXIF orientation is the caller's): `plan`
    /// is given the header and says which pixel format to decode to (TJPF_GRAY, TJPF_RGB or TJPF_CMYK) and how
    /// many bytes a pixel of it takes, or throws (a picture too large). A file libjpeg warns about (truncated,
    /// damaged) is refused, not shown half decoded.
    func decode(_ bytes: [UInt8], name: String, plan: (Header) throws -> (pixelFormat: Int32, channels: Int)) throws -> Image {
        guard let handle = initDecompress() else {
            throw ImageError(name, "libjpeg-turbo could not start a decompressor")
        }
        defer { _ = destroy(handle) }
        func failure(_ what: String) -> ImageError {
            let reason = errorString(handle).map { String(cString: $0) } ?? "unknown error"
            return ImageError(name, "not a valid JPEG (\(what): \(reason))")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let headerStatus = bytes.withUnsafeBufferPointer {
            decompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
        }
        guard headerStatus == 0 else { throw failure("header") }
        guard width > 0, height > 0 else { throw ImageError(name, "not a valid JPEG (its header gives no size: truncated?)") }
        let (pixelFormat, channels) = try plan(Header(width: Int(width), height: Int(height), colorspace: colorspace))
        let size = try ImageLimits.checkedSize(width: Int(width), height: Int(height), channels: channels, name: name)
        var pixels = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeBufferPointer { input in
            pixels.withUnsafeMutableBufferPointer { output in
                decompress2(handle, input.baseAddress, UInt(input.count), output.baseAddress, width, width * Int32(channels), height,
                            pixelFormat, Self.flagStopOnWarning | Self.flagLimitScans)
            }
        }
        guard status == 0 else { throw failure("image data") }
        return Image(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }
}
