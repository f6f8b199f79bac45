extension PNG {
    /// A palette image's indices looked up in PLTE: RGB, or RGBA when a tRNS chunk gives entries an alpha
    /// (entries past the end of tRNS are opaque; tRNS entries past the palette are ignored).
    static func applyPalette(_ indices: [UInt8], palette: [UInt8], transparency: [UInt8]?,
                             width: Int, height: Int, name: String) throws -> Image {
        guard !palette.isEmpty, palette.count % 3 == 0, palette.count / 3 <= 256 else {
            throw ImageError(name, "palette image without a valid PLTE chunk")
        }
        let entries = palette.count / 3
        let alphas = transparency.map { Array($0.prefix(entries)) }
        let channels = alphas == nil ? 3 : 4
        var pixels = [UInt8](repeating: 0, count: indices.count * channels)
        for (i, index) in indices.enumerated() {
            let entry = Int(index)
            guard entry < entries else { throw ImageError(name, "palette index \(index) out of range (the palette has \(entries) colours)") }
            let target = i * channels
            pixels[target] = palette[3 * entry]
            pixels[target + 1] = palette[3 * entry + 1]
            pixels[target + 2] = palette[3 * entry + 2]
            if let alphas { pixels[target + 3] = entry < alphas.count ? alphas[entry] : 255 }
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}
