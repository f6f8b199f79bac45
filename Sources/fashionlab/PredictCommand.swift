import ArgumentParser
import FashionCore
import FashionData
import FashionImaging
import FashionInterop
import FashionTraining
import Foundation

/// `fashionlab predict MODEL IMAGE…`: classifies one's own pictures, files or folders of them.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify your own pictures (JPEG, PNG or PGM; files or folders) with a trained model; prints the top 3 classes.",
        discussion: """
            Each picture is made into a 28×28 image the way Fashion-MNIST's were: grayscale, inverted when the background is light, \
            cropped to the object, fitted and centred. A JPEG is turned upright by its EXIF orientation first. A folder is read \
            in name order (its pictures by their extension); a picture that cannot be read is reported and skipped, and the exit \
            status is then 1. With a folder (or --sheet), a contact sheet shows each picture, what the model saw and its class.
            """)

    @Argument(help: ArgumentHelp("A run directory, a .safetensors file or an .onnx file.", valueName: "MODEL"))
    var model: String

    @Argument(help: ArgumentHelp("Pictures to classify: JPEG (baseline or progressive; needs libturbojpeg0), PNG (any kind) or PGM; or folders of them.", valueName: "IMAGE"))
    var images: [String]

    @Option(name: .customLong("show-input"), help: ArgumentHelp("Save the 28×28 image that was classified (FILE-2.png and so on for more pictures).", valueName: "FILE"))
    var showInput: String?

    @Option(help: ArgumentHelp("Write the contact sheet PNG here (default when a folder is given: predictions.png in the current directory).", valueName: "FILE"))
    var sheet: String?

    @Flag(help: "Print the results as JSON lines (a picture that cannot be read: {\"image\", \"error\"}).")
    var json = false

    struct Prediction: Encodable {
        let image: String
        let top: [ClassGuess]
    }

    struct Failure: Encodable {
        let image: String
        let error: String
    }

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one IMAGE to classify") }
    }

    func run() throws {
        let (network, config) = try ModelFormats.load(model)
        // The contact sheet, if any: --sheet, or predictions.png when a folder is among the inputs.
        let sheetPath = sheet ?? (images.contains(where: PictureFolder.isFolder) ? "predictions.png" : nil)
        var pictures: [String] = [], failures: [Failure] = []
        for path in images {
            guard PictureFolder.isFolder(path) else { pictures.append(path); continue }
            let folder: PictureFolder
            do { folder = try PictureFolder(path) } catch {
                failures.append(Failure(image: path, error: "\(error)")); continue
            }
            if !folder.others.isEmpty {
                Terminal.note("\(path): left out \(folder.others.count) file(s) that are not pictures by their name: " + folder.others.prefix(5).joined(separator: ", ")
                    + (folder.others.count > 5 ? ", …" : ""))
            }
            if folder.pictures.isEmpty { failures.append(Failure(image: path, error: "\(path): no pictures (JPEG, PNG or PGM) in this folder")) }
            pictures += folder.pictures
        }
        for failure in failures { try report(failure) }
        var sheetEntries: [ContactSheet.Entry] = []
        for (index, path) in pictures.enumerated() {
            let result: PictureClassification
            do {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ImageError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
                }
                result = try network.classify(pictureBytes: [UInt8](data), name: path, encoding: config.encoding)
            } catch {
                let failure = Failure(image: path, error: "\(error)")
                failures.append(failure)
                try report(failure)
                continue
            }
            let (picture, input, top) = (result.picture, result.input, result.top)
            if let showInput {
                let target = pictures.count == 1 || index == 0 ? showInput
                    : (showInput as NSString).deletingPathExtension + "-\(index + 1).png"
                try AtomicFile.write(PNG.encode(input), to: target)
            }
            if json {
                try Terminal.printJSON(Prediction(image: path, top: top))
            } else {
                print("\(path): " + top.map { String(format: "%@ %.1f%%", $0.name, $0.probability * 100) }.joined(separator: ", "))
            }
            if sheetPath != nil {
                let label = "\(sheetEntries.count + 1) \(top[0].name) \(Int((top[0].probability * 100).rounded()))%"
                sheetEntries.append(ContactSheet.Entry(picture: picture, input: input, label: label))
            }
        }
        if let sheetPath, !sheetEntries.isEmpty {
            try AtomicFile.write(PNG.encode(ContactSheet.render(sheetEntries)), to: sheetPath)
            Terminal.note("Contact sheet of \(sheetEntries.count) picture(s), numbered in the order above: \(sheetPath)")
        }
        if !failures.isEmpty {
            Terminal.note("\(failures.count) input(s) could not be read or classified (see above)")
            throw ExitCode(1)
        }
    }

    /// A picture that could not be read: on standard error, and as a JSON line with --json.
    private func report(_ failure: Failure) throws {
        Terminal.note("Error: \(failure.error)")
        if json { try Terminal.printJSON(failure) }
    }
}
