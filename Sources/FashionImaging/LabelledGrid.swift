/// A grid of images with a small label under each, drawn with a built-in 3×5 pixel font of digits and '>'
/// (enough for "true>predicted" class numbers).
public enum LabelledGrid {
    static let glyphs: [Character: [String]] = [
        "0": ["111", "101", "101", "101", "111"], "1": ["010", "110", "010", "010", "111"],
        "2": ["111", "001", "111", "100", "111"], "3": ["111", "001", "111", "001", "111"],
        "4": ["101", "101", "111", "001", "001"], "5": ["111", "100", "111", "001", "111"],
        "6": ["111", "100", "111", "101", "111"], "7": ["111", "001", "010", "010", "010"],
        "8": ["111", "101", "111", "101", "111"], "9": ["111", "101", "111", "001", "111"],
        ">": ["100", "010", "001", "010", "100"],
    ]

    /// Renders `tiles` (each `side`×`side` gray pixels) `columns` to a row, `scale`× enlarged, each with
    /// its label (digits and '>') centred in a white band below.
    public static func render(_ tiles: [ArraySlice<UInt8>], labels: [String], side: Int = 28, columns: Int = 10, scale: Int = 3) -> Image {
        let gap = 2, fontScale = 2, band = 5 * fontScale + 6
        let cellWidth = side * scale, cellHeight = side * scale + band
        let rows = (tiles.count + columns - 1) / columns
        let width = gap + min(columns, max(1, tiles.count)) * (cellWidth + gap)
        let height = gap + rows * (cellHeight + gap)
        var image = Image(width: width, height: height, gray: 255)
        for (index, tile) in tiles.enumerated() {
            let x0 = gap + (index % columns) * (cellWidth + gap), y0 = gap + (index / columns) * (cellHeight + gap)
            for y in 0..<(side * scale) {
                for x in 0..<(side * scale) {
                    image.pixels[(y0 + y) * width + x0 + x] = tile[tile.startIndex + (y / scale) * side + x / scale]
                }
            }
            let text = Array(labels[index])
            let textWidth = text.count * 4 * fontScale - fontScale
            var penX = x0 + (cellWidth - textWidth) / 2
            let penY = y0 + side * scale + 3
            for character in text {
                if let rowsOfGlyph = glyphs[character] {
                    for (gy, row) in rowsOfGlyph.enumerated() {
                        for (gx, bit) in row.enumerated() where bit == "1" {
                            for dy in 0..<fontScale { for dx in 0..<fontScale {
                                image.pixels[(penY + gy * fontScale + dy) * width + penX + gx * fontScale + dx] = 0
                            } }
                        }
                    }
                }
                penX += 4 * fontScale
            }
        }
        return image
    }
}
