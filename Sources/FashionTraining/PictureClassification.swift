import FashionData
import FashionEngine
import FashionImaging

/// One class the model thinks a picture may be, with its probability.
public struct ClassGuess: Codable, Sendable, Equatable {
    public let label: Int
    public let name: String
    public let probability: Float

    public init(label: Int, name: String, probability: Float) {
        (self.label, self.name, self.probability) = (label, name, probability)
    }
}

/// A picture classified: the picture as decoded, the 28×28 image the model was given, and the most likely classes.
public struct PictureClassification: Sendable {
    public let picture: Image
    public let input: Image
    public let top: [ClassGuess]
}

extension Sequential {
    /// Classifies a picture file's bytes (PNG, JPEG or PGM) the way `fashionlab predict` and `fashionlab serve`
    /// do: decoded (``FashionInput/decode(_:name:)``), made into a 28×28 image as the dataset's were
    /// (``FashionInput/prepare(_:side:)``), encoded as the model was trained, and the `count` most likely classes
    /// by softmax. Throws an `ImageError` naming `name` when the bytes are not a picture that can be read.
    public func classify(pictureBytes bytes: [UInt8], name: String, encoding: PixelEncoding, count: Int = 3) throws -> PictureClassification {
        let picture = try FashionInput.decode(bytes, name: name)
        let input = FashionInput.prepare(picture)
        let probabilities = self.probabilities(images: input.pixels, count: 1, encoding: encoding)[0]
        let top = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(count)
            .map { ClassGuess(label: $0, name: FashionMNIST.classNames[$0], probability: probabilities[$0]) }
        return PictureClassification(picture: picture, input: input, top: top)
    }
}
