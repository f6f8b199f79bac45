/// What kind of picture a file holds, told by its first bytes (its "magic number"), never by its name.
///
/// The one place where formats are recognised: ``FashionInput/decode(_:name:)`` decodes the supported ones and
/// refuses the others with a message that names the format and says what to convert it to.
public enum ImageFormat: Sendable, Equatable {
    case png, jpeg, pgm
    /// Recognised but not read: GIF, BMP, WebP, TIFF, HEIC/HEIF, AVIF, JPEG XL, JPEG 2000.
    case unsupported(String)
    /// Not a picture format FashionLab knows.
    case unknown

    /// The format of `bytes`.
    public static func detect(_ bytes: [UInt8]) -> ImageFormat {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<(offset + prefix.count)]) == prefix
        }
        func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }
        if starts(PNG.signature) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(ascii("P5")) || starts(ascii("P2")) { return .pgm }
        if starts(ascii("GIF87a")) || starts(ascii("GIF89a")) { return .unsupported("GIF") }
        if starts(ascii("BM")) { return .unsupported("BMP") }
        if starts(ascii("RIFF")), starts(ascii("WEBP"), at: 8) { return .unsupported("WebP") }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .unsupported("TIFF") }
        if starts([0xFF, 0x0A]) || starts([0, 0, 0, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { return .unsupported("JPEG XL") }
        if starts([0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || starts([0xFF, 0x4F, 0xFF, 0x51]) { return .unsupported("JPEG 2000") }
        // ISO base media files (HEIC, AVIF): a box of type "ftyp" first, then the brand.
        if starts(ascii("ftyp"), at: 4), bytes.count >= 12 {
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            if ["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"].contains(brand) { return .unsupported("HEIC") }
            if ["avif", "avis"].contains(brand) { return .unsupported("AVIF") }
        }
        return .unknown
    }

    /// Where a format FashionLab does not read is refused: the error names it and says what to do.
    func refusal(name: String) -> ImageError {
        switch self {
        case .unsupported(let format):
            ImageError(name, "a \(format) picture, which FashionLab does not read: convert it to PNG or JPEG")
        default:
            ImageError(name, "not a picture FashionLab can read (PNG, JPEG or PGM): convert it to PNG or JPEG")
        }
    }

    /// File name extensions of pictures, supported or not (lower case): what `predict` takes from a folder.
    public static let pictureExtensions: Set<String> = [
        "png", "jpg", "jpeg", "jpe", "jfif", "pgm",
        "gif", "bmp", "webp", "tif", "tiff", "heic", "heif", "avif", "jxl", "jp2",
    ]
}
