/// How large a picture may be, and how much memory reading it may take, checked on its header before any memory
/// is taken for it.
///
/// 50 megapixels covers the photos a phone or camera takes (a 48 MP phone photo is 8000×6000). The working memory
/// of a picture is everything held at once while it is decoded and prepared as a model's input: its decoded
/// pixels, and the decoder's scratch (a PNG's two rows of raw samples, libjpeg's buffers, an orientation copy);
/// the preparation (``FashionInput/prepare(_:side:)``) reads the picture where it lies and takes none. Every
/// decoder states its figure with ``workingMemory(width:height:channels:scratch:name:)`` before it allocates,
/// and a picture whose figure passes ``maxWorkingMemory`` is refused, whatever its shape, depth or colour type.
/// Sizes are multiplied with overflow checks: a header's 32-bit width and height can multiply past `Int.max`.
public enum ImageLimits {
    /// The most pixels (width × height) a picture may decode to.
    public static let maxPixels = 50_000_000

    /// The most bytes decoding and preparing one picture may hold at once: 200 MB.
    public static let maxWorkingMemory = 200_000_000

    /// width × height × channels, or an `ImageError` naming the file when it overflows or the image
    /// has more than `maxPixels` pixels.
    public static func checkedSize(width: Int, height: Int, channels: Int, name: String) throws -> Int {
        guard width > 0, height > 0 else { throw ImageError(name, "empty image (\(width)×\(height))") }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxPixels else {
            throw ImageError(name, "\(width)×\(height) pixels is larger than the \(maxPixels) (50 megapixels) supported")
        }
        let (bytes, overflow2) = pixels.multipliedReportingOverflow(by: channels)
        guard !overflow2 else { throw ImageError(name, "\(width)×\(height)×\(channels) overflows") }
        return bytes
    }

    /// The working memory of a picture: width × height × `channels` bytes of decoded pixels plus the decoder's
    /// `scratch` bytes. Throws an `ImageError` naming the file and the figure when it passes ``maxWorkingMemory``
    /// (or the picture passes ``maxPixels``); returns the pixels' bytes, the size of the buffer to allocate.
    @discardableResult
    public static func workingMemory(width: Int, height: Int, channels: Int, scratch: Int, name: String) throws -> Int {
        let pixels = try checkedSize(width: width, height: height, channels: channels, name: name)
        let (total, overflow) = pixels.addingReportingOverflow(scratch)
        guard !overflow, total <= maxWorkingMemory else {
            let megabytes = overflow ? "more than \(Int.max / 1_000_000)" : "\((total + 999_999) / 1_000_000)"
            throw ImageError(name, "\(width)×\(height) pixels of this kind need \(megabytes) MB of working memory to decode "
                + "(\(pixels) bytes of pixels and \(scratch) of the decoder's), more than the \(maxWorkingMemory / 1_000_000) MB a picture may take")
        }
        return pixels
    }
}
