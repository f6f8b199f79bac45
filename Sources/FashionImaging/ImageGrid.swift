/// Lays out equally sized gray tiles in a grid, scaled up with nearest-neighbour so a person can see them.
public struct ImageGrid: Sendable {
    /// Side of one tile in source pixels (28 for Fashion-MNIST).
    public var tileWidth: Int
    public var tileHeight: Int
    /// Each source pixel becomes `scale`×`scale` pixels.
    public var scale = 3
    /// Pixels between cells and around the grid.
    public var gap = 2
    /// Gray value of the gaps.
    public var background: UInt8 = 255

    public init(tileWidth: Int, tileHeight: Int, scale: Int = 3, gap: Int = 2, background: UInt8 = 255) {
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.scale = scale
        self.gap = gap
        self.background = background
    }

    /// Where the top-left pixel of cell (row, column) lands.
    public func origin(row: Int, column: Int) -> (x: Int, y: Int) {
        (gap + column * (tileWidth * scale + gap), gap + row * (tileHeight * scale + gap))
    }

    /// Renders `rows` of tiles (each a slice of `tileWidth*tileHeight` gray pixels); a short row leaves blanks.
    public func render(_ rows: [[ArraySlice<UInt8>]]) -> Image {
        let columns = rows.map(\.count).max() ?? 0
        let width = gap + columns * (tileWidth * scale + gap)
        let height = gap + rows.count * (tileHeight * scale + gap)
        var image = Image(width: width, height: height, gray: background)
        for (r, tiles) in rows.enumerated() {
            for (c, tile) in tiles.enumerated() {
                precondition(tile.count == tileWidth * tileHeight, "tile has \(tile.count) pixels")
                let (x0, y0) = origin(row: r, column: c)
                let base = tile.startIndex
                for y in 0..<(tileHeight * scale) {
                    let sourceRow = base + (y / scale) * tileWidth
                    let target = (y0 + y) * width + x0
                    for x in 0..<(tileWidth * scale) {
                        image.pixels[target + x] = tile[sourceRow + x / scale]
                    }
                }
            }
        }
        return image
    }
}
