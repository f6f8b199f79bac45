import FashionData

/// The notebook's sample figure: one row per class, random images of that class in each row.
public enum SampleGrid {
    /// Renders `perClass` random images of every class, one class per row, 3× enlarged.
    public static func render(_ dataset: Dataset, perClass: Int, scale: Int = 3, rowNames: [String]? = nil,
                              using generator: inout some RandomNumberGenerator) -> Image {
        let indices = dataset.randomSamples(perClass: perClass, using: &generator)
        return render(dataset, indices: indices, scale: scale, rowNames: rowNames)
    }

    /// Renders the images at `indices` (one array per row), with the row's name in a left margin when
    /// `rowNames` are given.
    public static func render(_ dataset: Dataset, indices: [[Int]], scale: Int = 3, rowNames: [String]? = nil) -> Image {
        let grid = ImageGrid(tileWidth: dataset.cols, tileHeight: dataset.rows, scale: scale)
        let tiles = grid.render(indices.map { row in row.map { dataset.image($0) } })
        guard let rowNames else { return tiles }
        let textScale = 2
        let margin = (rowNames.map { PixelFont.width($0, scale: textScale) }.max() ?? 0) + 12
        var image = Image(width: tiles.width + margin, height: tiles.height, gray: 255)
        for y in 0..<tiles.height {
            for x in 0..<tiles.width { image.pixels[y * image.width + margin + x] = tiles.pixels[y * tiles.width + x] }
        }
        for (row, name) in rowNames.enumerated() where row < indices.count {
            let (_, top) = grid.origin(row: row, column: 0)
            let y = top + (dataset.rows * scale - PixelFont.height(scale: textScale)) / 2
            PixelFont.draw(name, into: &image, x: margin - 8 - PixelFont.width(name, scale: textScale), y: y, scale: textScale)
        }
        return image
    }
}
