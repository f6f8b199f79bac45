import Foundation
import FashionCore

/// Finds, downloads when needed, verifies and loads Fashion-MNIST.
///
/// ```swift
/// let data = try FashionMNISTLoader().load()
/// print(data.train.imageShape)   // [60000, 28, 28]
/// ```
public struct FashionMNISTLoader: Sendable {
    public var locator: DataLocator
    /// Download from `mirror` when no searched directory has the data.
    public var allowDownload = true
    /// Base URL of the mirror: `$FASHIONLAB_MIRROR` or the official one.
    public var mirror: String
    /// Called with (bytes received, bytes expected) while downloading.
    public var progress: DownloadProgress?
    /// Receives one-line notes ("downloading …", "verified …").
    public var log: @Sendable (String) -> Void

    public init(locator: DataLocator = DataLocator(), progress: DownloadProgress? = nil,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.locator = locator
        self.mirror = locator.environment["FASHIONLAB_MIRROR"].flatMap { $0.isEmpty ? nil : $0 } ?? FashionMNIST.officialMirror
        self.progress = progress
        self.log = log
    }

    /// Loads both splits, downloading first if the data is nowhere to be found.
    public func load() throws -> FashionMNISTData {
        if let found = try locator.locate() {
            return try Self.load(directory: found.directory, recordDirectory: locator.cacheDirectory)
        }
        let directory = locator.downloadDirectory
        var searched = locator.candidates.map { "\($0.directory) (\($0.origin))" }.joined(separator: ", ")
        if let named = locator.namedDirectory, FileManager.default.fileExists(atPath: named.directory) {
            searched += ", which lacks " + DataLocator.missingFiles(in: named.directory).map(\.name).joined(separator: ", ")
        }
        guard allowDownload else {
            throw DataError("Fashion-MNIST", "not found; searched \(searched)")
        }
        log("Fashion-MNIST not found in \(searched); downloading from \(mirror) into \(directory)")
        let downloader = MirrorDownloader(mirror: mirror)
        for file in FashionMNIST.files where DataLocator.path(of: file, in: directory) == nil {
            do {
                try downloader.download(file, into: directory, progress: progress)
            } catch let error as DataError where locator.namedDirectory != nil {
                // The download is why a named folder failed: say which file it lacks.
                let named = locator.namedDirectory!
                throw DataError(error.subject, "\(error.message) (downloading it because \(named.directory), given by \(named.origin), lacks \(file.name))")
            }
            log("downloaded and verified \(file.name)")
        }
        return try Self.load(directory: directory, recordDirectory: locator.cacheDirectory)
    }

    /// Loads both splits from `directory`, checking structure, decompressed sizes and SHA-256.
    ///
    /// Files already verified (same path, size and modification time, remembered in
    /// `recordDirectory/verified.tsv`) are not hashed again.
    public static func load(directory: String, recordDirectory: String? = nil) throws -> FashionMNISTData {
        let files = FashionMNIST.files
        let paths = try files.map { file in
            guard let path = DataLocator.path(of: file, in: directory) else {
                throw DataError(directory + "/" + file.name, "no such file")
            }
            return path
        }
        var record = recordDirectory.map { VerificationRecord(cacheDirectory: $0) }
        let knownGood = zip(files, paths).map { file, path in record?.isVerified(path: path, sha256: file.sha256) ?? false }

        // Decompress, parse and (unless remembered) hash the four files in parallel.
        let arrays = try parallelMap(files.count) { i in
            let file = files[i]
            // Refused by size before being read: a plain file cannot be larger than the catalogue's
            // size; a .gz no larger than the largest file's `maxDownloadSize` (see there), so that one of
            // the dataset's files stored under another's name still reaches the magic-number check.
            let compressedName = paths[i].hasSuffix(".gz")
            let bytes = try FileIO.readBytes(
                paths[i], limit: compressedName ? FashionMNIST.maxStoredGzipSize : file.decompressedSize,
                what: compressedName ? "any gzip of a Fashion-MNIST file can be"
                    : "the \(file.decompressedSize) bytes of \(file.uncompressedName)")
            // A .gz name promises gzip; the limit lets a swapped file through to the magic-number check
            // while still bounding what a corrupt stream can inflate to.
            let raw = Gzip.hasMagic(bytes) || paths[i].hasSuffix(".gz")
                ? try Gzip.decompress(bytes, name: paths[i], limit: 64 << 20)
                : bytes
            let array = try IDX.parseRaw(raw, name: paths[i], expectedMagic: file.magic)
            return (array: array, raw: raw)
        }
        let train = try makeDataset(images: arrays[0].array, labels: arrays[1].array, names: (paths[0], paths[1]))
        let test = try makeDataset(images: arrays[2].array, labels: arrays[3].array, names: (paths[2], paths[3]))

        _ = try parallelMap(files.count) { i in
            try verify(arrays[i].raw, as: files[i], path: paths[i], knownGood: knownGood[i])
        }
        for (file, path) in zip(files, paths) { record?.markVerified(path: path, sha256: file.sha256) }
        record?.save()
        return FashionMNISTData(train: train, test: test, directory: directory)
    }

    /// Reads an images file and a labels file (plain or gzip IDX) into a dataset, without checksums:
    /// for one's own IDX data.
    public static func readDataset(imagesPath: String, labelsPath: String, classCount: Int = 10) throws -> Dataset {
        let images = try IDX.parse(FileIO.readBytes(imagesPath), name: imagesPath, expectedMagic: 0x803)
        let labels = try IDX.parse(FileIO.readBytes(labelsPath), name: labelsPath, expectedMagic: 0x801)
        return try makeDataset(images: images, labels: labels, names: (imagesPath, labelsPath), classCount: classCount)
    }

    private static func makeDataset(images: IDXArray, labels: IDXArray, names: (String, String), classCount: Int = 10) throws -> Dataset {
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DataError("\(names.0) and \(names.1)", "image and label counts disagree: \(images.dimensions[0]) images, \(labels.dimensions[0]) labels")
        }
        if let bad = labels.bytes.firstIndex(where: { Int($0) >= classCount }) {
            throw DataError(names.1, "label value \(labels.bytes[bad]) at index \(bad) is outside 0…\(classCount - 1)")
        }
        return try Dataset(images: images.bytes, labels: labels.bytes, rows: images.dimensions[1],
                           cols: images.dimensions[2], classCount: classCount, name: names.0)
    }

    /// Checks decompressed size and SHA-256 against the catalogue.
    static func verify(_ raw: [UInt8], as file: FashionMNIST.File, path: String, knownGood: Bool = false) throws {
        guard raw.count == file.decompressedSize else {
            throw DataError(path, "decompressed size is \(raw.count) bytes, expected \(file.decompressedSize) for \(file.name)")
        }
        guard !knownGood else { return }
        let digest = SHA256.hexDigest(raw)
        guard digest == file.sha256 else {
            throw DataError(path, "checksum mismatch: SHA-256 of the decompressed content is \(digest), expected \(file.sha256) (the file is corrupt or not Fashion-MNIST's \(file.name))")
        }
    }
}
