import Foundation
import FashionCore
import FashionData
import FashionEngine
import FashionImaging
import FashionStudies

/// The parsers of user files, fed byte-level mutations of valid files: IDX (plain and gzip), gzip alone,
/// safetensors, PNG, PGM (with the picture preparation of `predict`), JPEG, study files.
extension FuzzTargets {
    static var idx: FuzzTarget {
        let images = IDXArray(dimensions: [3, 4, 4], bytes: (0..<48).map { UInt8($0 * 5) })
        let labels = IDXArray(dimensions: [3], bytes: [1, 9, 0])
        let seeds = [images.encoded(), labels.encoded(), Gzip.compress(images.encoded()), Gzip.compress(labels.encoded())]
        return .bytes("idx", summary: "IDX files, plain and gzip, and the dataset checks", seeds: seeds) { bytes in
            let array = try IDX.parse(bytes, name: "fuzz")
            // Also through the dataset checks, as a labels file.
            if array.dimensions.count == 1 {
                _ = try Dataset(images: [UInt8](repeating: 0, count: array.bytes.count * 4), labels: array.bytes, rows: 2, cols: 2)
            }
        }
    }

    static var gzip: FuzzTarget {
        let text = Array(String(repeating: "Fashion-MNIST 0123456789 ", count: 40).utf8)
        return .bytes("gzip", summary: "gzip streams", seeds: [Gzip.compress(text), Gzip.compress([]), Gzip.compress(text, level: 1) + Gzip.compress([7, 7, 7])]) { bytes in
            _ = try Gzip.decompress(bytes, name: "fuzz", limit: 1 << 24)
        }
    }

    static var safetensors: FuzzTarget {
        var file = Sequential.mlp(inputs: 6, hidden: [3], classes: 2).stateDict(metadata: ["format": "pt", "note": "seed"])
        file.set("steps", Safetensors.Entry(dtype: "I64", shape: [1], bytes: withUnsafeBytes(of: Int64(3).littleEndian, Array.init)))
        return .bytes("safetensors", summary: "safetensors bytes, then loading into an MLP", seeds: [file.encoded(), Safetensors().encoded()]) { bytes in
            let parsed = try Safetensors.parse(bytes, name: "fuzz")
            for name in parsed.names { _ = parsed[name]?.floats() }
            // Loading into a model checks names and shapes; refusing a file there is a fine outcome too.
            try? Sequential.mlp(inputs: 6, hidden: [3], classes: 2).load(parsed, name: "fuzz")
        }
    }

    static var png: FuzzTarget {
        let seeds = [1, 2, 3, 4].map { channels in
            PNG.encode(Image(width: 5, height: 4, channels: channels, pixels: (0..<(20 * channels)).map { UInt8(truncatingIfNeeded: $0 * 37) }))
        }
        // And the kinds PNG.encode does not write (test fixtures): 16-bit interlaced, 2-bit palette with tRNS
        // interlaced, 4-bit gray, gray+alpha interlaced.
        let kinds = ["iVBORw0KGgoAAAANSUhEUgAAAA0AAAALEAAAAAGmTrRoAAAA8ElEQVR42mNgYNjxhLFj3Y6NDDGRIlyMT64AWS52C07+eR9RxaDn1pXz7DtjUWBMd4wak0uBM7dLAYMSW0Bd3cQ1S25t59A3c2JMK9MT1hPWr9AVBtFMLkAlYIVgmkGcy1W2eOrCFed3/z3HaOkEUqJXAVaoZAGGl0Ekc4CARoSGmrqa5g0NNRaQiLKwsrCSsFIFw8G97y/IenhHV+Ytb2QQeKWhZp8UZplb2rJxdsemIydnP7j+Q5j3laoao7GSuI34dSDGIGE2Qe1CJpl9U2WvyloBIQeInNsBJCH8q0BXiPOLW4hfBhpioQQyDM4HAORsXL0gmtjNAAAAAElFTkSuQmCC",
                        "iVBORw0KGgoAAAANSUhEUgAAAA0AAAALAgMAAAGu299kAAAADFBMVEXIHigUoFr6+voKFB6Z75w5AAAAAnRSTlMAgJsrThgAAAA/SURBVHjaY2BgZGAAY4YVjCuYGBiUFBiV/gFphvICxvKfQAazzV8WMJdh48aNDYwbGRjOg6QZmCMZGF6AZBgAh/MMmpKkrPsAAAAASUVORK5CYII=",
                        "iVBORw0KGgoAAAANSUhEUgAAAA0AAAALBAAAAABEKbW8AAAAOklEQVR42mNgXQ+CDIzrw1YB4WwmMLUqgXktmDGPBcIPZAArY13AyArhM4GpsAXM68CMSBYonwFqHgD9AyLs1Qve9AAAAABJRU5ErkJggg==",
                        "iVBORw0KGgoAAAANSUhEUgAAAA0AAAALCAQAAAF5vP98AAABDklEQVR42mNgkNshx9ght+MAQ4yciBzjkzogy0Vuwbk/dRF6DHpyXXLP5BiLymI2xGxgcolw4XDZwaAkF+BVV7Zm0a1zHL/M1BjT5PRaEJDJhQGobANQYYLLDhcBBnE5V7liuYVy5+X+yjFamujpwCCTkpiSk1Ke0iylY0qfmAOsNZI1KjX6NZZq7GYBy2yAyDAc7HmfIevirVD5Z/kNBkE5DU17kzD7XK+W0NkJm7JPlj1o/N7DN111EaOxnLgidsikxAA0UQdoZgTQvhaguRuAJt9R+qTEwezLL2skayvrIXtZNk42c26J7H/ZLtmpsgqy2ixKDOJi4jriTuIR4slKF8VniSeLC4vfAZIcAICBWx7BwuAxAAAAAElFTkSuQmCC"].map { [UInt8](Data(base64Encoded: $0)!) }
        return .bytes("png", summary: "PNG files of every kind", seeds: seeds + kinds) { bytes in
            _ = try PNG.decode(bytes, name: "fuzz").grayscale()
        }
    }

    static var pgm: FuzzTarget {
        let seeds = [Array("P5\n# c\n4 3\n255\n".utf8) + (0..<12).map { UInt8($0 * 20) },
                     Array("P2\n3 2\n65535\n0 1000 65535\n7 8 9\n".utf8),
                     Array("P5 2 2 65535\n".utf8) + [0, 1, 2, 3, 4, 5, 255, 255]]
        return .bytes("pgm", summary: "PGM files and predict's picture preparation", seeds: seeds) { bytes in
            _ = FashionInput.prepare(try FashionInput.decode(bytes, name: "fuzz"))
        }
    }

    static var studyFile: FuzzTarget {
        let texts = [
            #"{"name": "s", "base": {"optimizer": "adam", "lr": 0.001, "epochs": 2, "hidden": [32, 16], "scale": false}, "grid": {"batch-size": [32, 64], "seed": [1, 2]}}"#,
            #"{"grid": {"schedule": ["cosine", "step:2:0.5"], "momentum": [0.9], "nesterov": [true], "weight-decay": [0.0001]}}"#,
        ]
        return .bytes("study", summary: "study file bytes", seeds: texts.map { Array($0.utf8) }) { bytes in
            _ = try StudyFile.parse(Data(bytes), name: "fuzz")
        }
    }

    /// JPEG through libjpeg-turbo (where it is installed) and the EXIF reader; the seeds are two of the test
    /// fixtures (a 16×16 gray baseline file, and a progressive one with EXIF orientation 6).
    static var jpeg: FuzzTarget {
        let seeds = ["/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/wAALCAAYACABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APxnr1ivWK9YqxXrFesV6xVivWK9YrDr/9k=", "/9j/4AAQSkZJRgABAQAAAQABAAD/4QAiRXhpZgAATU0AKgAAAAgAAQESAAMAAAABAAYAAAAAAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/wgALCAAgABgBAREA/8QAFgABAQEAAAAAAAAAAAAAAAAACAkH/9oACAEBAAAAAc3RGnT9RCImGiERMNEIj//EABQQAQAAAAAAAAAAAAAAAAAAADD/2gAIAQEAAQUCT//EABQQAQAAAAAAAAAAAAAAAAAAADD/2gAIAQEABj8CT//EABQQAQAAAAAAAAAAAAAAAAAAADD/2gAIAQEAAT8hT//aAAgBAQAAABAAD//EABQQAQAAAAAAAAAAAAAAAAAAADD/2gAIAQEAAT8QT//Z"].map { [UInt8](Data(base64Encoded: $0)!) }
        return .bytes("jpeg", summary: "JPEG files (libjpeg-turbo) and their EXIF orientation", seeds: seeds) { bytes in
            _ = FashionInput.prepare(try FashionInput.decode(bytes, name: "fuzz"))
        }
    }
}
