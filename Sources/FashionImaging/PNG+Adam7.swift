extension PNG {
    /// Adam7 interlacing: the image stored as seven smaller images ("passes"), each of every `dx`-th pixel of
    /// every `dy`-th row from (`x0`, `y0`), one after the other in the data, each row filtered on its own.
    /// A pass with no pixels takes no bytes (not even filter bytes). A non-interlaced image is one pass.
    enum Adam7 {
        struct Pass {
            let x0: Int, y0: Int, dx: Int, dy: Int
            /// The pass's size in pixels (0 when the image is too small to reach it).
            let width: Int, height: Int

            init(x0: Int, y0: Int, dx: Int, dy: Int, imageWidth: Int, imageHeight: Int) {
                (self.x0, self.y0, self.dx, self.dy) = (x0, y0, dx, dy)
                width = imageWidth > x0 ? (imageWidth - x0 + dx - 1) / dx : 0
                height = imageHeight > y0 ? (imageHeight - y0 + dy - 1) / dy : 0
            }

            /// Bytes the pass takes in the inflated data: each row a filter byte and its samples.
            func dataSize(_ format: SampleFormat) -> Int {
                width == 0 || height == 0 ? 0 : height * (1 + format.rowBytes(width: width))
            }
        }

        /// The seven passes (from the PNG specification), or the whole image as one.
        static func passes(width: Int, height: Int, interlaced: Bool) -> [Pass] {
            let layout = interlaced
                ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
                : [(0, 0, 1, 1)]
            return layout.map { Pass(x0: $0.0, y0: $0.1, dx: $0.2, dy: $0.3, imageWidth: width, imageHeight: height) }
        }
    }
}
