/// Reading JPEG files, baseline and progressive, through libjpeg-turbo loaded at run time (``TurboJPEG``),
/// turned upright by their EXIF orientation (``EXIF``).
public enum JPEG {
    /// Decodes a JPEG to 8-bit gray (a gray JPEG) or RGB, upright. `name` is used in error messages.
    ///
    /// - Parameter library: the libjpeg-turbo to decode with; nil (none installed) gives an error that says
    ///   what to install.
    /// - Throws: ``ImageError`` naming the file: libjpeg-turbo missing, a damaged or truncated file (with
    ///   libjpeg's reason), or a picture larger than ``ImageLimits/maxPixels``.
    public static func decode(_ bytes: [UInt8], name: String, library: TurboJPEG? = TurboJPEG.shared) throws -> Image {
        guard let library else {
            throw ImageError(name, "a JPEG picture; reading JPEG needs libjpeg-turbo, which is not installed "
                + "(Debian/Ubuntu: apt-get install libturbojpeg0; macOS: brew install jpeg-turbo), or convert it to PNG")
        }
        let stored = try library.decode(bytes, name: name)
        return stored.oriented(EXIF.orientation(inJPEG: bytes) ?? .upright)
    }
}
