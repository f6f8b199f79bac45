/// One split of an image classification dataset, kept as bytes.
///
/// Images are one contiguous buffer `[count, rows, cols]` of `UInt8` pixels; labels are `[count]`.
/// Conversion to floats (scaled by 1/255 or not) happens when batches are gathered.
public struct Dataset: Sendable {
    /// Pixels, row-major `[count, rows, cols]`.
    public let images: [UInt8]
    /// Class labels, `[count]`.
    public let labels: [UInt8]
    public let count: Int
    public let rows: Int
    public let cols: Int
    /// Number of classes; every label is below it.
    public let classCount: Int

    /// Makes a dataset, checking that the buffers agree with the shape and the labels with `classCount`.
    public init(images: [UInt8], labels: [UInt8], rows: Int, cols: Int, classCount: Int = 10, name: String = "dataset") throws {
        let (pixels, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard rows > 0, cols > 0, !overflow, images.count % pixels == 0 else {
            throw DataError(name, "image buffer of \(images.count) bytes is not a whole number of \(rows)×\(cols) images")
        }
        let imageCount = images.count / pixels
        guard imageCount == labels.count else {
            throw DataError(name, "\(imageCount) images but \(labels.count) labels")
        }
        if let bad = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw DataError(name, "label \(labels[bad]) at index \(bad) is outside 0…\(classCount - 1)")
        }
        self.images = images
        self.labels = labels
        self.count = imageCount
        self.rows = rows
        self.cols = cols
        self.classCount = classCount
    }

    /// Pixels per image.
    public var pixelsPerImage: Int { rows * cols }
    /// `[count, rows, cols]`, as the notebook prints it.
    public var imageShape: [Int] { [count, rows, cols] }
    /// `[count]`.
    public var labelShape: [Int] { [count] }

    /// The pixels of image `index`.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        images[index * pixelsPerImage ..< (index + 1) * pixelsPerImage]
    }

    /// The distinct label values, sorted.
    public var uniqueLabels: [Int] {
        classCounts.indices.filter { classCounts[$0] > 0 }
    }

    /// How many images each class has.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// `perClass` random image indices for each class (fewer where a class has fewer images).
    public func randomSamples(perClass: Int, using generator: inout some RandomNumberGenerator) -> [[Int]] {
        var byClass = [[Int]](repeating: [], count: classCount)
        for (index, label) in labels.enumerated() { byClass[Int(label)].append(index) }
        return byClass.map { indices in
            var pool = indices
            var chosen = [Int]()
            // A partial Fisher–Yates shuffle: draw without replacement.
            for i in 0..<min(perClass, pool.count) {
                let j = Int.random(in: i..<pool.count, using: &generator)
                pool.swapAt(i, j)
                chosen.append(pool[i])
            }
            return chosen
        }
    }

    /// The same images mirrored left to right (as `torchvision.transforms.functional.hflip`), with the same labels.
    public func horizontallyFlipped() -> Dataset {
        var flipped = images
        for start in stride(from: 0, to: images.count, by: cols) {
            for column in 0..<cols { flipped[start + column] = images[start + cols - 1 - column] }
        }
        // The same shape and labels as this valid dataset.
        return try! Dataset(images: flipped, labels: labels, rows: rows, cols: cols, classCount: classCount)
    }

    /// A dataset of the images at `indices`, in that order.
    public func subset(_ indices: some Sequence<Int>) -> Dataset {
        var newImages = [UInt8]()
        var newLabels = [UInt8]()
        for index in indices {
            newImages += image(index)
            newLabels.append(labels[index])
        }
        // The parts come from a valid dataset, so they are valid too.
        return try! Dataset(images: newImages, labels: newLabels, rows: rows, cols: cols, classCount: classCount)
    }
}

/// The two splits of Fashion-MNIST and where they were read from.
public struct FashionMNISTData: Sendable {
    public let train: Dataset
    public let test: Dataset
    /// The directory the files came from.
    public let directory: String
}
