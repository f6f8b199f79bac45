/// Reading JPEG files, baseline and progressive, gray, colour or CMYK, through libjpeg-turbo loaded at run time
/// (``TurboJPEG``), turned upright by their EXIF orientation (``EXIF``).
public enum JPEG {
    /// Decodes a JPEG to 8-bit gray (a gray JPEG, or any with the `.gray` layout) or RGB, upright. A CMYK or YCCK
    /// JPEG (as Photoshop saves for print) is converted: red = (1 − cyan)(1 − black) and so on, its samples read
    /// as inverted when an Adobe marker says it comes from Adobe's convention. `name` is used in error messages.
    ///
    /// - Parameters:
    ///   - bytes: the file's bytes.
    ///   - name: the file's name, for error messages.
    ///   - library: the libjpeg-turbo to decode with; nil (none installed) gives an error that says what to install.
    ///   - layout: the pixels wanted: gray, or as stored.
    /// - Throws: ``ImageError`` naming the file: libjpeg-turbo missing, a damaged or truncated file (with
    ///   libjpeg's reason), or a picture larger than ``ImageLimits`` allows (its pixels or its working memory).
    public static func decode(_ bytes: [UInt8], name: String, library: TurboJPEG? = TurboJPEG.shared,
                              layout: PixelLayout = .stored) throws -> Image {
        guard let library else {
            throw ImageError(name, "a JPEG picture; reading JPEG needs libjpeg-turbo, which is not installed "
                + "(Debian/Ubuntu: apt-get install libturbojpeg0; macOS: brew install jpeg-turbo), or convert it to PNG")
        }
        let markers = Markers(bytes)
        let orientation = markers.exif.flatMap(EXIF.orientation(inTIFF:)) ?? .upright
        var channels = 1
        let decoded = try library.decode(bytes, name: name) { header in
            channels = header.isGray || layout == .gray ? 1 : 3
            let (width, height) = (header.width, header.height)  // at most 65535 each: no overflow below
            // Scratch: libjpeg's own buffers, the CMYK samples before they are converted, the upright copy.
            var scratch = markers.libjpegScratch(width: width, height: height)
            if header.isCMYK { scratch += 4 * width * height }
            if orientation != .upright { scratch += channels * width * height }
            try ImageLimits.workingMemory(width: width, height: height, channels: channels, scratch: scratch, name: name)
            if header.isCMYK { return (TurboJPEG.pixelFormatCMYK, 4) }
            return (channels == 1 ? TurboJPEG.pixelFormatGray : TurboJPEG.pixelFormatRGB, channels)
        }
        let colours = decoded.channels == 4 ? fromCMYK(decoded, inverted: markers.adobe, channels: channels) : decoded
        return colours.oriented(orientation)
    }

    /// CMYK samples as RGB (`channels` 3) or gray (1). Adobe's CMYK JPEGs store each sample inverted (255 is no ink).
    static func fromCMYK(_ cmyk: Image, inverted: Bool, channels: Int) -> Image {
        var out = [UInt8](repeating: 0, count: cmyk.width * cmyk.height * channels)
        for i in 0..<(cmyk.width * cmyk.height) {
            // How much of each colour's light is left: (255 − ink) of it, then of black's.
            func light(_ c: Int) -> Int {
                let (sample, black) = (Int(cmyk.pixels[4 * i + c]), Int(cmyk.pixels[4 * i + 3]))
                return inverted ? (sample * black + 127) / 255 : ((255 - sample) * (255 - black) + 127) / 255
            }
            let (r, g, b) = (UInt8(light(0)), UInt8(light(1)), UInt8(light(2)))
            if channels == 1 {
                out[i] = Image.gray(r, g, b, 255, channels: 3)
            } else {
                (out[3 * i], out[3 * i + 1], out[3 * i + 2]) = (r, g, b)
            }
        }
        return Image(width: cmyk.width, height: cmyk.height, channels: channels, pixels: out)
    }

    /// What FashionLab reads of a JPEG's markers, walked from SOI to the first scan (SOS): the frame (SOF: its
    /// components' sampling factors, progressive or not), how many components the first scan holds, whether an
    /// Adobe marker (APP14) is present, and the EXIF data (APP1). Anything malformed ends the walk: what was read
    /// so far is kept, and libjpeg gives the reason when it decodes the file.
    struct Markers {
        var progressive = false
        /// Each component's horizontal and vertical sampling factors.
        var components: [(h: Int, v: Int)] = []
        var firstScanComponents = 0
        var adobe = false
        /// The body of the first APP1 segment that starts with "Exif\0\0", without that prefix (TIFF data).
        var exif: ArraySlice<UInt8>?

        init(_ bytes: [UInt8]) {
            guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return }
            var offset = 2
            while offset + 4 <= bytes.count {
                guard bytes[offset] == 0xFF else { return }
                let marker = bytes[offset + 1]
                if marker == 0xFF { offset += 1; continue }  // fill byte
                if marker == 0xD9 { return }  // end of image
                if (0xD0...0xD7).contains(marker) || marker == 0x01 { offset += 2; continue }  // markers without a length
                let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])  // counts its own two bytes
                guard length >= 2, length <= bytes.count - offset - 2 else { return }
                let body = bytes[(offset + 4)..<(offset + 2 + length)]
                switch marker {
                case 0xDA:  // start of scan: its component count, and nothing further
                    firstScanComponents = Int(body.first ?? 0)
                    return
                case 0xC0...0xCF where ![0xC4, 0xC8, 0xCC].contains(marker):  // start of frame (not DHT, JPG, DAC)
                    progressive = [0xC2, 0xC6, 0xCA, 0xCE].contains(marker)
                    let count = body.count >= 6 ? Int(body[body.startIndex + 5]) : 0
                    components = (0..<count).compactMap { c in
                        let at = body.startIndex + 6 + 3 * c + 1
                        return at < body.endIndex ? (h: max(1, Int(body[at] >> 4)), v: max(1, Int(body[at] & 0x0F))) : nil
                    }
                case 0xEE where body.starts(with: Array("Adobe".utf8)):
                    adobe = true
                case 0xE1 where exif == nil && body.starts(with: Array("Exif\0\0".utf8)):
                    exif = body.dropFirst(6)
                default: break
                }
                offset += 2 + length
            }
        }

        /// Bytes libjpeg allocates to decode a `width`×`height` picture of this frame: when the file has more than one
        /// scan (progressive, or components in separate scans) every component's DCT coefficients, 64 two-byte
        /// values for each 8×8 block (blocks rounded up to whole MCUs); and a band of sample rows, four MCU rows
        /// of each component. An unreadable frame is taken as four full-size components in a progressive file.
        func libjpegScratch(width: Int, height: Int) -> Int {
            let frame = components.isEmpty ? Array(repeating: (h: 1, v: 1), count: 4) : components
            let multiScan = components.isEmpty || progressive || firstScanComponents < components.count
            let hMax = frame.map(\.h).max()!, vMax = frame.map(\.v).max()!
            func blocks(_ size: Int, _ factor: Int, _ maxFactor: Int) -> Int {
                let samples = (size * factor + maxFactor - 1) / maxFactor
                return ((samples + 7) / 8 + factor - 1) / factor * factor
            }
            var bytes = 0
            for component in frame {
                let across = blocks(width, component.h, hMax), down = blocks(height, component.v, vMax)
                if multiScan { bytes += across * down * 128 }
                bytes += 4 * across * 8 * 8 * component.v
            }
            return bytes
        }
    }
}
