/// Reading PGM (portable graymap) files: binary `P5` and plain `P2`, maxval up to 65535 (scaled to 0…255).
public enum PGM {
    /// Images larger than this many pixels are refused (``ImageLimits``).
    public static var maxPixels: Int { ImageLimits.maxPixels }

    public static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "5") || bytes[1] == UInt8(ascii: "2") else {
            throw ImageError(name, "not a PGM file (expected P5 or P2)")
        }
        let binary = bytes[1] == UInt8(ascii: "5")
        var offset = 2
        func nextNumber() throws -> Int {
            // Skip whitespace and # comments.
            while offset < bytes.count {
                if bytes[offset] == UInt8(ascii: "#") {
                    while offset < bytes.count, bytes[offset] != 10 { offset += 1 }
                } else if [9, 10, 13, 32].contains(bytes[offset]) {
                    offset += 1
                } else { break }
            }
            var value = 0, digits = 0
            while offset < bytes.count, (48...57).contains(bytes[offset]) {
                value = value * 10 + Int(bytes[offset] - 48)
                digits += 1
                offset += 1
                guard value < 1 << 31 else { throw ImageError(name, "number too large in the PGM header") }
            }
            guard digits > 0 else { throw ImageError(name, "truncated or malformed PGM header") }
            return value
        }
        let width = try nextNumber(), height = try nextNumber(), maxValue = try nextNumber()
        // Its working memory is its pixels: the samples are read from the file's bytes where they lie.
        try ImageLimits.workingMemory(width: width, height: height, channels: 1, scratch: 0, name: name)
        guard (1...65535).contains(maxValue) else { throw ImageError(name, "maxval \(maxValue) is outside 1…65535") }
        let count = width * height
        // Refuse a header that promises more pixels than the file can hold before allocating for them:
        // binary samples take 1 or 2 bytes, plain ones at least 2 (a digit and a separator).
        let minimumBytes = binary ? count * (maxValue > 255 ? 2 : 1) : count * 2 - 1
        guard bytes.count - offset >= minimumBytes else {
            throw ImageError(name, "truncated: \(width)×\(height) pixels need at least \(minimumBytes) bytes, \(max(0, bytes.count - offset)) present")
        }
        var pixels = [UInt8](repeating: 0, count: count)
        func scaled(_ value: Int) throws -> UInt8 {
            guard value <= maxValue else { throw ImageError(name, "pixel value \(value) exceeds maxval \(maxValue)") }
            return UInt8((value * 255 + maxValue / 2) / maxValue)
        }
        if binary {
            offset += 1  // the single whitespace after maxval
            let bytesPerSample = maxValue > 255 ? 2 : 1
            guard bytes.count - offset >= count * bytesPerSample else {
                throw ImageError(name, "truncated: \(count * bytesPerSample) bytes of pixels expected, \(max(0, bytes.count - offset)) present")
            }
            for i in 0..<count {
                let value = bytesPerSample == 1 ? Int(bytes[offset + i]) : Int(bytes[offset + 2 * i]) << 8 | Int(bytes[offset + 2 * i + 1])
                pixels[i] = try scaled(value)
            }
        } else {
            for i in 0..<count { pixels[i] = try scaled(nextNumber()) }
        }
        return Image(width: width, height: height, channels: 1, pixels: pixels)
    }
}
