/// How large a decoded picture may be, checked on the header before any memory is taken for it.
///
/// 50 megapixels covers the photos a phone or camera takes (a 48 MP phone photo is 8000×6000) while a
/// header of a few bytes can make us allocate at most 50 M × 4 channels = 200 MB. Sizes are multiplied
/// with overflow checks: a header's 32-bit width and height can multiply past `Int.max`.
public enum ImageLimits {
    /// The most pixels (width × height) a PNG or PGM may decode to.
    public static let maxPixels = 50_000_000

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
}
