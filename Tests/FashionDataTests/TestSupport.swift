import Foundation
import FashionData

/// Where Debian's dataset-fashion-mnist puts the files; tests on the real data need it.
let systemDataDirectory = "/usr/share/datasets/fashion-mnist"
let realDataAvailable = FashionMNIST.files.allSatisfy { FileManager.default.fileExists(atPath: systemDataDirectory + "/" + $0.name) }
let realDataMissingReason: Comment = "Fashion-MNIST is not in \(systemDataDirectory) (apt-get install dataset-fashion-mnist)"

func write(_ bytes: [UInt8], to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

func readFile(_ path: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: path)!)
}

/// Tiny IDX files: `count` 2×2 images with pixel value = index, labels = index % 10.
func tinyIDX(count: Int, labelCount: Int? = nil) -> (images: [UInt8], labels: [UInt8]) {
    let images = IDXArray(dimensions: [count, 2, 2], bytes: (0..<count * 4).map { UInt8(($0 / 4) % 256) })
    let n = labelCount ?? count
    let labels = IDXArray(dimensions: [n], bytes: (0..<n).map { UInt8($0 % 10) })
    return (images.encoded(), labels.encoded())
}

import Testing
