import FashionCore
import FashionData

extension Dataset {
    /// A small synthetic dataset for tests, learnable in a few steps: `count` 28×28 images,
    /// labels drawn from `seed`, the image of class c `bright` in horizontal band c (of ten) and `dark`
    /// elsewhere, plus (when `noise` > 0) a random 0…noise−1 added to every pixel.
    public static func bands(count: Int, seed: UInt64 = 0, bright: UInt8 = 200, dark: UInt8 = 0, noise: Int = 0) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        var images = [UInt8](repeating: 0, count: count * 784)
        var labels = [UInt8]()
        for i in 0..<count {
            let label = Int(generator.next() % 10)
            labels.append(UInt8(label))
            for p in 0..<784 {
                var value = Int((p / 28) * 10 / 28 == label ? bright : dark)
                if noise > 0 { value += Int(generator.next() % UInt64(noise)) }
                images[i * 784 + p] = UInt8(min(255, value))
            }
        }
        return try! Dataset(images: images, labels: labels, rows: 28, cols: 28)
    }
}
