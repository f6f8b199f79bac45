// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "FashionLab",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "FashionCore", targets: ["FashionCore"]),
        .library(name: "FashionData", targets: ["FashionData"]),
        .library(name: "FashionImaging", targets: ["FashionImaging"]),
        .library(name: "FashionEngine", targets: ["FashionEngine"]),
        .library(name: "FashionTraining", targets: ["FashionTraining"]),
        .library(name: "FashionCharts", targets: ["FashionCharts"]),
        .library(name: "FashionStudies", targets: ["FashionStudies"]),
        .library(name: "FashionServe", targets: ["FashionServe"]),
        .library(name: "FashionInterop", targets: ["FashionInterop"]),
        .executable(name: "fashionlab", targets: ["fashionlab"]),
        .executable(name: "custom-model", targets: ["custom-model"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation`: the DocC catalogs of the libraries.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        // `fashionlab serve`'s HTTP server. Its default traits (swift-configuration support, full Foundation) are
        // left out: FashionLab configures the server itself, and they would only add build time.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: []),
        // Already part of Hummingbird: named for the serve's request deadline (a channel handler) header names, and ending event streams when the server is asked to stop.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        // Protocol Buffers for the formats of other tools (ONNX, TensorBoard's event files); the Swift code is generated once from Protos/ by scripts/generate-protobuf.sh.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // zlib from the system (Debian: zlib1g-dev): gzip reading and PNG compression.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // What every part shares: atomic file writing, directory locks, the seeded RNG, parallel loops.
        .target(name: "FashionCore", dependencies: ["CKernels"]),
        // IDX + gzip reading, the Fashion-MNIST catalogue, locating/downloading/verifying, Dataset.
        .target(name: "FashionData", dependencies: ["CZlib", "FashionCore"]),
        // PNG and PGM, image grids, a pixel font, pictures prepared like the dataset's.
        .target(name: "FashionImaging", dependencies: ["CZlib", "FashionData", "FashionCore"]),
        // The C parts: vectorised loops compiled for AVX-512, AVX2 and baseline x86-64 (chosen at run time),
        // the AVX-512 GEMM kernels, im2col, the thread pool and the Ctrl-C flag.
        .target(name: "CKernels"),
        // Tensors, the CPU backend (BLAS found at run time), layers, losses, optimisers, checkpoints.
        .target(name: "FashionEngine", dependencies: ["FashionCore", "CKernels"]),
        // Batching, the epoch loop, metrics history, evaluation.
        .target(name: "FashionTraining", dependencies: ["CKernels", "FashionCore", "FashionData", "FashionEngine", "FashionImaging"]),
        // SVG charts (curves, histograms, confusion matrix), the self-contained HTML report, and the files a run or an evaluation writes.
        .target(name: "FashionCharts", dependencies: ["FashionCore", "FashionData", "FashionEngine", "FashionImaging", "FashionTraining"]),
        // Studies as data, their runner (resumable), findings written from results, the lab report.
        .target(name: "FashionStudies", dependencies: ["FashionCore", "FashionData", "FashionEngine", "FashionTraining", "FashionCharts"]),
        // The web front end (`fashionlab serve`): pages, the JSON API and live updates of the runs under a folder.
        .target(name: "FashionServe", dependencies: [
            "FashionCore", "FashionData", "FashionImaging", "FashionEngine", "FashionTraining", "FashionCharts", "FashionInterop",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Models and curves in and out of other tools' formats: ONNX export and import, TensorBoard event files (a training observer).
        .target(name: "FashionInterop", dependencies: [
            "FashionCore", "FashionData", "FashionEngine", "FashionTraining", "FashionStudies",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Mutation fuzzing of every parser of user files, and its command-line driver.
        .target(name: "FashionFuzzing", dependencies: ["FashionCore", "FashionData", "FashionEngine", "FashionImaging", "FashionTraining", "FashionCharts", "FashionStudies", "FashionInterop"]),
        .executableTarget(name: "fashionlab-fuzz", dependencies: ["FashionFuzzing", "FashionCore", "FashionEngine"]),
        // The command-line program: parses flags and calls the libraries.
        .executableTarget(
            name: "fashionlab",
            dependencies: [
                "FashionCore", "FashionData", "FashionImaging", "FashionEngine", "FashionTraining", "FashionCharts", "FashionStudies", "FashionServe", "FashionInterop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // An example a user can copy: a network of one's own, trained with the libraries.
        .executableTarget(
            name: "custom-model",
            dependencies: ["FashionCore", "FashionData", "FashionEngine", "FashionTraining",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/custom-model"
        ),
        // The Swift code the README, docs/ and the DocC articles show, one snippet a file: compiled with the tests
        // (fashionlabTests depends on it), never run; DocumentationSnippetsTests keeps the pages equal to the files.
        .executableTarget(
            name: "DocumentationSnippets",
            dependencies: ["FashionCore", "FashionData", "FashionEngine", "FashionTraining", "FashionCharts", "FashionStudies"],
            path: "Examples/snippets"
        ),
        // What the test targets share: a temporary directory per test run, removed when it ends; a synthetic dataset.
        .target(name: "FashionTestSupport", dependencies: ["FashionCore", "FashionData"], path: "Tests/FashionTestSupport"),
        // Runs the built program: bad input of every kind gets a clear error and a non-zero exit.
        .testTarget(name: "fashionlabTests", dependencies: ["fashionlab", "custom-model", "DocumentationSnippets", "FashionStudies", "FashionTraining", "FashionTestSupport"]),
        .testTarget(name: "FashionServeTests", dependencies: ["FashionServe", "fashionlab", "FashionTraining", "FashionEngine", "FashionImaging", "FashionData", "FashionCore", "FashionTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FashionFuzzingTests", dependencies: ["FashionFuzzing", "fashionlab-fuzz", "fashionlab"]),
        .testTarget(name: "FashionCoreTests", dependencies: ["FashionCore", "CKernels", "FashionTestSupport"]),
        .testTarget(name: "FashionDataTests", dependencies: ["FashionData", "FashionCore", "FashionTestSupport"]),
        .testTarget(name: "FashionImagingTests", dependencies: ["FashionImaging", "FashionData", "FashionCore", "FashionTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FashionEngineTests", dependencies: ["FashionEngine", "FashionCore", "CKernels", "FashionTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FashionChartsTests", dependencies: ["FashionCharts", "FashionTraining", "FashionEngine", "FashionImaging", "FashionData", "FashionCore", "FashionTestSupport"]),
        .testTarget(name: "FashionStudiesTests", dependencies: ["FashionStudies", "FashionTraining", "FashionEngine", "FashionData", "FashionCore", "FashionTestSupport"]),
        .testTarget(name: "FashionInteropTests", dependencies: ["FashionInterop", "FashionStudies", "FashionTraining", "FashionEngine", "FashionData", "FashionCore", "FashionTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "FashionTrainingTests", dependencies: ["FashionTraining", "FashionData", "FashionEngine", "FashionCore", "FashionTestSupport"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
