/// The one thing FashionLab reads from a JPEG's EXIF data: the orientation tag (0x0112), which says how the
/// camera held the picture, so that it can be turned upright before it is classified.
///
/// Read by hand and bounded: every offset is checked against the APP1 segment that holds it; anything
/// malformed (a bad byte order, an offset past the end, a value other than 1…8) means "no orientation",
/// never an error or a crash: the picture is then used as stored.
public enum EXIF {
    /// The orientation stored in the JPEG's APP1 Exif segment, or nil when there is none or it is malformed.
    public static func orientation(inJPEG bytes: [UInt8]) -> Orientation? {
        JPEG.Markers(bytes).exif.flatMap(orientation(inTIFF:))
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
