import ArgumentParser
import FashionData
import FashionImaging
import FashionCore
import Foundation

/// `fashionlab prepare`: find or download the data, verify it, print its summary, draw samples.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Find or download Fashion-MNIST, verify it, print a summary and save a 10×10 sample grid.")

    @OptionGroup var dataOptions: DataOptions

    @Option(help: ArgumentHelp("Where to save the sample grid.", valueName: "FILE"))
    var out = "fashion_mnist_samples.png"

    @Option(help: "Seed for choosing the samples.")
    var seed: UInt64 = 0

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard out.lowercased().hasSuffix(".png") else { throw ValidationError("--out \(out) must name a .png file (the sample grid is a PNG)") }
    }

    struct Summary: Encodable {
        let directory: String
        let trainImagesShape: [Int]
        let trainLabelsShape: [Int]
        let testImagesShape: [Int]
        let testLabelsShape: [Int]
        let uniqueLabels: [Int]
        let classNames: [String]
        let trainClassCounts: [Int]
        let testClassCounts: [Int]
        let problem: String
        let samplesPNG: String
        let samplesSize: [Int]
    }

    func run() throws {
        let data = try dataOptions.load(quiet: json)
        var generator = SeededGenerator(seed: seed)
        let grid = SampleGrid.render(data.train, perClass: 10, rowNames: FashionMNIST.classNames, using: &generator)
        try AtomicFile.write(PNG.encode(grid), to: out)

        let summary = Summary(
            directory: data.directory,
            trainImagesShape: data.train.imageShape, trainLabelsShape: data.train.labelShape,
            testImagesShape: data.test.imageShape, testLabelsShape: data.test.labelShape,
            uniqueLabels: data.train.uniqueLabels, classNames: FashionMNIST.classNames,
            trainClassCounts: data.train.classCounts, testClassCounts: data.test.classCounts,
            problem: "\(data.train.uniqueLabels.count)-class classification",
            samplesPNG: out, samplesSize: [grid.width, grid.height])
        if json { return try Terminal.printJSON(summary) }

        print("Fashion-MNIST, read from \(data.directory)")
        print("Training images: shape \(summary.trainImagesShape), pixels 0…255 (UInt8)")
        print("Training labels: shape \(summary.trainLabelsShape), unique values \(summary.uniqueLabels)")
        print("Test images:     shape \(summary.testImagesShape)")
        print("Test labels:     shape \(summary.testLabelsShape)")
        print("Images per class: \(summary.trainClassCounts[0]) training, \(summary.testClassCounts[0]) test" +
              (Set(summary.trainClassCounts).count == 1 ? " (balanced)" : ""))
        print("This is a \(summary.problem) problem. Classes, in label order:")
        for (label, name) in FashionMNIST.classNames.enumerated() { print("  \(label) \(name)") }
        print("Saved \(out): 10×10 random training samples, one row per class (\(grid.width)×\(grid.height) px, seed \(seed))")
    }
}
