/// Turns a picture into a 28×28 image the way Fashion-MNIST's were made: grayscale, the object bright
/// on a dark background (inverted when the background is light), cropped to the object, its longest
/// side fitted to 28 pixels and centred.
///
/// The picture is decoded straight to gray and prepared where it lies, so the whole path stays within the
/// working memory ``ImageLimits`` promises for every shape, depth and colour type.
public enum FashionInput {
    /// Decodes a picture file's bytes to gray (alpha over white): PNG, JPEG (upright by its EXIF orientation)
    /// or PGM, told apart by their first bytes (``ImageFormat``). Other formats are refused with an error that
    /// names the format when it is recognisable (GIF, BMP, WebP, TIFF, HEIC…) and says to convert it to PNG or JPEG.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        switch ImageFormat.detect(bytes) {
        case .png: try PNG.decode(bytes, name: name, layout: .gray)
        case .jpeg: try JPEG.decode(bytes, name: name, layout: .gray)
        case .pgm: try PGM.decode(bytes, name: name)
        case let other: throw other.refusal(name: name)
        }
    }

    /// The 28×28 gray image (784 bytes, row-major) to classify. Transparent pixels are composited over
    /// white first, as a person sees them. A gray picture is read where it lies: nothing the size of the
    /// picture is allocated (the background is measured with histograms, the inversion done as pixels are read).
    public static func prepare(_ image: Image, side: Int = 28) -> Image {
        let gray = image.grayscale(background: 255)
        let w = gray.width, h = gray.height
        // Background: the median of the border pixels. A light background is inverted, as the dataset's
        // product photos (dark on white) were.
        var border = [Int](repeating: 0, count: 256)
        for x in 0..<w { border[Int(gray.pixels[x])] += 1; border[Int(gray.pixels[(h - 1) * w + x])] += 1 }
        for y in 0..<h { border[Int(gray.pixels[y * w])] += 1; border[Int(gray.pixels[y * w + w - 1])] += 1 }
        let count = 2 * (w + h)
        let median = valueAt(count / 2, of: border)
        let inverted = median > 127
        // Sensor noise: how far the border strays from its median (90th percentile). It is subtracted
        // with the background, so a noisy photo's background stays black as the dataset's is.
        var deviations = [Int](repeating: 0, count: 256)
        for value in 0..<256 { deviations[abs(value - median)] += border[value] }
        let background = min(254, (inverted ? 255 - median : median) + valueAt(count * 9 / 10, of: deviations))
        // The pixel at (x, y), bright on dark.
        func pixel(_ x: Int, _ y: Int) -> Int {
            let value = Int(gray.pixels[y * w + x])
            return inverted ? 255 - value : value
        }
        // Crop to the pixels clearly brighter than the background.
        let threshold = background + max(16, (255 - background) / 8)
        var (minX, minY, maxX, maxY) = (w, h, -1, -1)
        for y in 0..<h {
            for x in 0..<w where pixel(x, y) > threshold {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        if maxX < 0 { (minX, minY, maxX, maxY) = (0, 0, w - 1, h - 1) }
        let cropWidth = maxX - minX + 1, cropHeight = maxY - minY + 1
        // Fit the longest side to `side` pixels (area averaging) and centre it on black.
        let scale = Double(side) / Double(max(cropWidth, cropHeight))
        let outWidth = max(1, min(side, Int((Double(cropWidth) * scale).rounded())))
        let outHeight = max(1, min(side, Int((Double(cropHeight) * scale).rounded())))
        var out = Image(width: side, height: side, gray: 0)
        let left = (side - outWidth) / 2, top = (side - outHeight) / 2
        for oy in 0..<outHeight {
            let y0 = Double(oy) / scale, y1 = Double(oy + 1) / scale
            for ox in 0..<outWidth {
                let x0 = Double(ox) / scale, x1 = Double(ox + 1) / scale
                var sum = 0.0, weight = 0.0
                for sy in Int(y0)..<min(cropHeight, Int(y1.rounded(.up))) {
                    let wy = min(Double(sy + 1), y1) - max(Double(sy), y0)
                    guard wy > 0 else { continue }
                    for sx in Int(x0)..<min(cropWidth, Int(x1.rounded(.up))) {
                        let wx = min(Double(sx + 1), x1) - max(Double(sx), x0)
                        guard wx > 0 else { continue }
                        let value = Double(max(0, pixel(minX + sx, minY + sy) - background))
                        sum += value * wx * wy
                        weight += wx * wy
                    }
                }
                let stretched = weight > 0 ? sum / weight * 255 / Double(max(1, 255 - background)) : 0
                out.pixels[(top + oy) * side + left + ox] = UInt8(max(0, min(255, stretched.rounded())))
            }
        }
        return out
    }

    /// The value at `index` of the sorted values a 256-bin `histogram` counts.
    private static func valueAt(_ index: Int, of histogram: [Int]) -> Int {
        var seen = 0
        for value in 0..<256 {
            seen += histogram[value]
            if seen > index { return value }
        }
        return 255
    }
}
