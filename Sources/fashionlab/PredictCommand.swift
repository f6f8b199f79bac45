import ArgumentParser
import FashionCore
import FashionData
import FashionImaging
import FashionTraining
import Foundation

/// `fashionlab predict MODEL IMAGE…`: classifies one's own pictures.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify your own pictures (PNG or PGM) with a trained model; prints the top 3 classes.",
        discussion: "Each picture is made into a 28×28 image the way Fashion-MNIST's were: grayscale, inverted when the background is light, cropped to the object, fitted and centred.")

    @Argument(help: ArgumentHelp("A run directory or a .safetensors file.", valueName: "MODEL"))
    var model: String

    @Argument(help: ArgumentHelp("Pictures to classify: PNG (8-bit gray, RGB, RGBA, palette) or PGM.", valueName: "IMAGE"))
    var images: [String]

    @Option(name: .customLong("show-input"), help: ArgumentHelp("Save the 28×28 image that was classified (FILE-2.png and so on for more pictures).", valueName: "FILE"))
    var showInput: String?

    @Flag(help: "Print the results as JSON lines.")
    var json = false

    struct Prediction: Encodable {
        let image: String
        let top: [Guess]
    }

    struct Guess: Encodable {
        let label: Int
        let name: String
        let probability: Float
    }

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one IMAGE to classify") }
    }

    func run() throws {
        let (network, config) = try ModelFile.load(model)
        for (index, path) in images.enumerated() {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ImageError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
            }
            let input = FashionInput.prepare(try FashionInput.decode([UInt8](data), name: path))
            if let showInput {
                let target = images.count == 1 || index == 0 ? showInput
                    : (showInput as NSString).deletingPathExtension + "-\(index + 1).png"
                try AtomicFile.write(PNG.encode(input), to: target)
            }
            let probabilities = network.probabilities(images: input.pixels, count: 1, encoding: config.encoding)[0]
            let top = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(3)
                .map { Guess(label: $0, name: FashionMNIST.classNames[$0], probability: probabilities[$0]) }
            if json {
                try Terminal.printJSON(Prediction(image: path, top: top))
            } else {
                print("\(path): " + top.map { String(format: "%@ %.1f%%", $0.name, $0.probability * 100) }.joined(separator: ", "))
            }
        }
    }
}
