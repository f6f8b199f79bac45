extension PNG {
    /// A palette image's colours from PLTE: RGB, or RGBA when a tRNS chunk gives entries an alpha (entries past
    /// the end of tRNS are opaque; tRNS entries past the palette are ignored).
    struct Palette {
        /// 3 (RGB) or 4 (RGBA, with tRNS).
        let channels: Int
        let entries: Int
        /// Each entry's red, green, blue and alpha.
        private let colours: [UInt8]

        init(_ palette: [UInt8], transparency: [UInt8]?, name: String) throws {
            guard !palette.isEmpty, palette.count % 3 == 0, palette.count / 3 <= 256 else {
                throw ImageError(name, "palette image without a valid PLTE chunk")
            }
            entries = palette.count / 3
            channels = transparency == nil ? 3 : 4
            var colours = [UInt8](repeating: 255, count: 4 * entries)
            for entry in 0..<entries {
                for c in 0..<3 { colours[4 * entry + c] = palette[3 * entry + c] }
                if let transparency, entry < transparency.count { colours[4 * entry + 3] = transparency[entry] }
            }
            self.colours = colours
        }

        /// Entry `index`'s red, green, blue and alpha into `samples`, or an error when the palette has no such entry.
        func look(up index: Int, into samples: inout [UInt8], name: String) throws {
            guard index < entries else {
                throw ImageError(name, "palette index \(index) out of range (the palette has \(entries) colours)")
            }
            for c in 0..<4 { samples[c] = colours[4 * index + c] }
        }
    }
}
