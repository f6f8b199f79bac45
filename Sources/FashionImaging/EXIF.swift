/// The one thing FashionLab reads from a JPEG's EXIF data: the orientation tag (0x0112), which says how the
/// camera held the picture, so that it can be turned upright before it is classified.
///
/// Read by hand and bounded: every offset is checked against the APP1 segment that holds it; anything
/// malformed (a bad byte order, an offset past the end, a value other than 1…8) means "no orientation",
/// never an error or a crash: the picture is then used as stored.
public enum EXIF {
    /// The orientation stored in the JPEG's APP1 Exif segment, or nil when there is none or it is malformed.
    public static func orientation(inJPEG bytes: [UInt8]) -> Orientation? {
        guard let segment = exifSegment(bytes) else { return nil }
        return orientation(inTIFF: segment)
    }

    /// The body of the first APP1 segment that starts with "Exif\0\0", without that prefix (the TIFF data).
    /// Walks the markers from SOI up to the first scan (SOS) or the end of the file.
    static func exifSegment(_ bytes: [UInt8]) -> ArraySlice<UInt8>? {
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var offset = 2
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { return nil }
            let marker = bytes[offset + 1]
            if marker == 0xFF { offset += 1; continue }  // fill byte
            if marker == 0xDA || marker == 0xD9 { return nil }  // scan data or end: no EXIF before it
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { offset += 2; continue }  // markers without a length
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])  // counts its own two bytes
            guard length >= 2, length <= bytes.count - offset - 2 else { return nil }
            let body = bytes[(offset + 4)..<(offset + 2 + length)]
            if marker == 0xE1, body.count >= 6, Array(body.prefix(6)) == Array("Exif\0\0".utf8) {
                return body.dropFirst(6)
            }
            offset += 2 + length
        }
        return nil
    }

    /// The orientation tag of IFD0 in TIFF-structured data ("II" or "MM", 42, the offset of IFD0).
    static func orientation(inTIFF data: ArraySlice<UInt8>) -> Orientation? {
        let tiff = Array(data)  // offsets count from the TIFF header
        guard tiff.count >= 8 else { return nil }
        let littleEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): littleEndian = true
        case (0x4D, 0x4D): littleEndian = false
        default: return nil
        }
        func read16(_ at: Int) -> Int? {
            guard at >= 0, at <= tiff.count - 2 else { return nil }
            return littleEndian ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func read32(_ at: Int) -> Int? {
            guard let first = read16(at), let second = read16(at + 2) else { return nil }
            return littleEndian ? first | second << 16 : first << 16 | second
        }
        guard read16(2) == 42, let ifd = read32(4), let count = read16(ifd) else { return nil }
        for entry in 0..<count {
            let at = ifd + 2 + entry * 12
            guard let tag = read16(at), let type = read16(at + 2), let values = read32(at + 4) else { return nil }
            guard tag == 0x0112 else { continue }
            // A SHORT (type 3), one value, stored in the first two bytes of the value field.
            guard type == 3, values == 1, let value = read16(at + 8) else { return nil }
            return Orientation(rawValue: value)
        }
        return nil
    }
}
