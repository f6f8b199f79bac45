import FashionData

/// The notebook's sample figure: one row per class, random images of that class in each row.
public enum SampleGrid {
    /// Renders `perClass` random images of every class, one class per row, 3× enlarged.
    public static func render(_ dataset: Dataset, perClass: Int, scale: Int = 3,
                              using generator: inout some RandomNumberGenerator) -> Image {
        let indices = dataset.randomSamples(perClass: perClass, using: &generator)
        return render(dataset, indices: indices, scale: scale)
    }

    /// Renders the images at `indices` (one array per row).
    public static func render(_ dataset: Dataset, indices: [[Int]], scale: Int = 3) -> Image {
        let grid = ImageGrid(tileWidth: dataset.cols, tileHeight: dataset.rows, scale: scale)
        return grid.render(indices.map { row in row.map { dataset.image($0) } })
    }
}
