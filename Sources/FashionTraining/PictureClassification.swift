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
    /// do: decoded (`FashionInput.decode(_:name:)`), made into a 28×28 image as the dataset's were
    /// (`FashionInput.prepare(_:side:)`), encoded as the model was trained, and the `count` most likely classes
    /// by softmax. Throws an `ImageError` naming `name` when the bytes are not a picture that can be read.
    /// A model whose outputs are not finite for the picture gives no classes: ``NoPrediction``.
    public func classify(pictureBytes bytes: [UInt8], name: String, encoding: PixelEncoding, count: Int = 3) throws -> PictureClassification {
        let picture = try FashionInput.decode(bytes, name: name)
        let input = FashionInput.prepare(picture)
        let probabilities = self.probabilities(images: input.pixels, count: 1, encoding: encoding)[0]
        if let bad = probabilities.first(where: { !$0.isFinite }) { throw NoPrediction(picture: name, value: bad) }
        let top = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(count)
            .map { ClassGuess(label: $0, name: FashionMNIST.classNames[$0], probability: probabilities[$0]) }
        return PictureClassification(picture: picture, input: input, top: top)
    }
}

/// A model that predicts nothing for a picture: its outputs are NaN or infinite (weights that are not finite,
/// or so large that the sums overflow).
public struct NoPrediction: Error, CustomStringConvertible {
    /// The picture, as named in the request.
    public let picture: String
    /// The first output that is not a number.
    public let value: Float
    public var description: String {
        let shown = value.isNaN ? "NaN" : value > 0 ? "+infinity" : "-infinity"
        return "\(picture): the model's outputs for it are not finite (\(shown)), so it predicts no class; its weights hold NaN or infinite values, or values so large that its sums overflow"
    }
}
