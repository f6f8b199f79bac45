/// The Fashion-MNIST catalogue: its four files, their checksums and the ten class names.
public enum FashionMNIST {
    /// The class names in label order (label 0 is "T-shirt/top").
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Number of classes.
    public static let classCount = 10

    /// Image side length in pixels.
    public static let imageSide = 28

    /// The official download mirror (overridable with `$FASHIONLAB_MIRROR`).
    public static let officialMirror = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

    /// Which split a file belongs to.
    public enum Split: String, Sendable, CaseIterable {
        case train, test
    }

    /// One of the four dataset files.
    public struct File: Sendable, Hashable {
        /// The file name as published, with `.gz`.
        public let name: String
        public let split: Split
        /// True for the images file, false for the labels file.
        public let isImages: Bool
        /// Size of the decompressed IDX content in bytes.
        public let decompressedSize: Int
        /// SHA-256 of the decompressed content (the `.gz` containers differ between sources).
        public let sha256: String

        /// The expected IDX magic number.
        public var magic: UInt32 { isImages ? 0x803 : 0x801 }
        /// The most bytes a download or a stored `.gz` of this file may have. The containers differ
        /// between sources, so this is not an exact size: the decompressed size plus 1/64 of it plus
        /// 64 KiB, more than deflate's worst case (stored blocks add 5 bytes per 65,535) and gzip's
        /// header and trailer need. A larger Content-Length is refused before a byte is read, and a
        /// body without one is cut off there.
        public var maxDownloadSize: Int { decompressedSize + decompressedSize / 64 + 65_536 }
        /// The name without `.gz`, as some sources store the files.
        public var uncompressedName: String { String(name.dropLast(3)) }
    }

    /// The largest `.gz` of any of the four files accepted on disk (the training images' `maxDownloadSize`).
    public static var maxStoredGzipSize: Int { files.map(\.maxDownloadSize).max() ?? 0 }

    /// The four files: training images and labels, test images and labels.
    public static let files: [File] = [trainImages, trainLabels, testImages, testLabels]

    public static let trainImages = File(
        name: "train-images-idx3-ubyte.gz", split: .train, isImages: true, decompressedSize: 47_040_016,
        sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888")
    public static let trainLabels = File(
        name: "train-labels-idx1-ubyte.gz", split: .train, isImages: false, decompressedSize: 60_008,
        sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9")
    public static let testImages = File(
        name: "t10k-images-idx3-ubyte.gz", split: .test, isImages: true, decompressedSize: 7_840_016,
        sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b")
    public static let testLabels = File(
        name: "t10k-labels-idx1-ubyte.gz", split: .test, isImages: false, decompressedSize: 10_008,
        sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34")
}
