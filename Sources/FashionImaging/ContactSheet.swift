/// The contact sheet `predict` writes: for each picture, a thumbnail of it beside what the model saw (the
/// 28×28 input, enlarged), and under them its number, its likeliest class and that class's probability.
public enum ContactSheet {
    /// Side of a thumbnail, and of the enlarged input (28 × 3), in pixels.
    public static let side = 84
    /// Pictures per row.
    public static let columns = 4

    /// One picture of the sheet. Only the thumbnail is kept, not the picture.
    public struct Entry: Sendable {
        public let thumbnail: Image
        public let input: Image
        public let label: String

        /// `picture` as decoded (any size, alpha over white), `input` the 28×28 image that was classified.
        public init(picture: Image, input: Image, label: String) {
            precondition(input.channels == 1 && input.width == input.height, "the input is a square gray image")
            thumbnail = ContactSheet.thumbnail(picture, side: ContactSheet.side)
            self.input = input
            self.label = label
        }
    }

    /// The sheet, `columns` pictures to a row (gray, 8-bit; drawn with ``LabelledGrid``).
    public static func render(_ entries: [Entry]) -> Image {
        let gap = 4, width = 2 * side + gap
        let tiles = entries.map { entry -> ArraySlice<UInt8> in
            var tile = [UInt8](repeating: 255, count: width * side)
            let scale = max(1, side / entry.input.width)
            for y in 0..<side {
                for x in 0..<side {
                    tile[y * width + x] = entry.thumbnail.pixels[y * side + x]
                    tile[y * width + side + gap + x] = entry.input.pixels[min(entry.input.height - 1, y / scale) * entry.input.width
                        + min(entry.input.width - 1, x / scale)]
                }
            }
            return tile[...]
        }
        return LabelledGrid.render(tiles, labels: entries.map(\.label), tileWidth: width, tileHeight: side, columns: columns, scale: 1)
    }

    /// `picture` in gray (alpha composited over white), fitted into a `side`×`side` square on white and
    /// centred: shrunk by averaging the pixels each thumbnail pixel covers, enlarged by repeating them.
    public static func thumbnail(_ picture: Image, side: Int) -> Image {
        let gray = picture.grayscale(background: 255)
        let w = gray.width, h = gray.height
        let outWidth = max(1, w >= h ? side : w * side / h), outHeight = max(1, h >= w ? side : h * side / w)
        var out = Image(width: side, height: side, gray: 255)
        let left = (side - outWidth) / 2, top = (side - outHeight) / 2
        for oy in 0..<outHeight {
            let y0 = oy * h / outHeight, y1 = max(y0 + 1, (oy + 1) * h / outHeight)
            for ox in 0..<outWidth {
                let x0 = ox * w / outWidth, x1 = max(x0 + 1, (ox + 1) * w / outWidth)
                var sum = 0
                for y in y0..<y1 { for x in x0..<x1 { sum += Int(gray.pixels[y * w + x]) } }
                let count = (y1 - y0) * (x1 - x0)
                out.pixels[(top + oy) * side + left + ox] = UInt8((sum + count / 2) / count)
            }
        }
        return out
    }
}
