/// A grid of images with a short label under each (drawn with `PixelFont`; a label of several lines, separated by
/// `"\n"`, gets a band of that many lines).
public enum LabelledGrid {
    /// Renders `tiles` (each `side`×`side` gray pixels) `columns` to a row, `scale`× enlarged, each with
    /// its label (digits and '>') centred in a white band below.
    public static func render(_ tiles: [ArraySlice<UInt8>], labels: [String], side: Int = 28, columns: Int = 10, scale: Int = 3) -> Image {
        render(tiles, labels: labels, tileWidth: side, tileHeight: side, columns: columns, scale: scale)
    }

    /// Renders `tiles` of `tileWidth`×`tileHeight` gray pixels each, `columns` to a row, `scale`× enlarged,
    /// each with its label (the characters of ``PixelFont``) centred in a white band below.
    public static func render(_ tiles: [ArraySlice<UInt8>], labels: [String], tileWidth: Int, tileHeight: Int,
                              columns: Int, scale: Int) -> Image {
        precondition(tiles.count == labels.count, "one label per tile")
        let gap = 2, fontScale = 1, lineHeight = PixelFont.height(scale: fontScale) + 3
        let lines = labels.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        let band = (lines.map(\.count).max() ?? 1) * lineHeight + 3
        let cellWidth = tileWidth * scale, cellHeight = tileHeight * scale + band
        let rows = (tiles.count + columns - 1) / columns
        let width = gap + min(columns, max(1, tiles.count)) * (cellWidth + gap)
        let height = gap + rows * (cellHeight + gap)
        var image = Image(width: width, height: height, gray: 255)
        for (index, tile) in tiles.enumerated() {
            precondition(tile.count == tileWidth * tileHeight, "tile has \(tile.count) pixels")
            let x0 = gap + (index % columns) * (cellWidth + gap), y0 = gap + (index / columns) * (cellHeight + gap)
            for y in 0..<(tileHeight * scale) {
                for x in 0..<(tileWidth * scale) {
                    image.pixels[(y0 + y) * width + x0 + x] = tile[tile.startIndex + (y / scale) * tileWidth + x / scale]
                }
            }
            for (line, text) in lines[index].enumerated() {
                let x = x0 + (cellWidth - PixelFont.width(text, scale: fontScale)) / 2
                PixelFont.draw(text, into: &image, x: x, y: y0 + tileHeight * scale + 3 + line * lineHeight, scale: fontScale)
            }
        }
        return image
    }
}
