import FashionCore
import Foundation

/// One value of a layer description: a whole number, a number or a flag (`"kernel_size": 3`, `"eps": 1e-05`,
/// `"bias": true`).
public enum LayerArgument: Sendable, Equatable, Codable, CustomStringConvertible {
    case int(Int)
    case number(Double)
    case bool(Bool)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let whole = try? container.decode(Int.self) {
            self = .int(whole)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number or true/false")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }

    /// As JSON writes it: `3`, `1e-05`, `true`.
    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(format: "%.1f", value) : "\(value)"
        case .bool(let value): value ? "true" : "false"
        }
    }

    /// A `Float` as the number its shortest decimal spelling names (`Float(1e-5)` → `1e-05`, not 9.99999974e-06),
    /// so a layer described from its `Float` settings compares equal to the description it was built from.
    public static func decimal(_ value: Float) -> LayerArgument { .number(Double("\(value)") ?? Double(value)) }
}

/// One setting a layer type takes in its description: the name (PyTorch's constructor argument), its kind and
/// its default.
public struct LayerSetting: Sendable {
    public enum Kind: Sendable {
        case int, number, bool
        var expected: String {
            switch self {
            case .int: "a whole number"
            case .number: "a number"
            case .bool: "true or false"
            }
        }
    }
    public enum Default: Sendable {
        /// The description must give it.
        case required
        /// This value when left out.
        case value(LayerArgument)
        /// The value of another setting when left out (`MaxPool2d`'s `stride`: its `kernel_size`).
        case sameAs(String)
    }
    public let name: String
    public let kind: Kind
    public let defaultValue: Default

    public init(_ name: String, _ kind: Kind, default defaultValue: Default = .required) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
    }
}

/// What a layer type makes of its input: the shape of one output sample and how many trainable and stored
/// values it holds. A layer type's `check` returns it after validating its settings against the input shape.
public struct LayerShape: Sendable {
    public let output: [Int]
    /// Trainable values.
    public let parameters: Int
    /// Stored, untrained values (BatchNorm's running statistics).
    public let buffers: Int
    /// The largest scratch buffer one image needs (im2col columns), 0 for none.
    public let scratch: Int

    public init(output: [Int], parameters: Int = 0, buffers: Int = 0, scratch: Int = 0) {
        self.output = output
        self.parameters = parameters
        self.buffers = buffers
        self.scratch = scratch
    }
}

/// What a layer's `check` throws: the message only; the model description adds the layer's index and type.
public struct LayerProblem: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// State shared by the layers while a description is turned into a `Sequential`: the one generator the
/// parameters are drawn from, in layer order, and the seeds of the dropout layers (`seed &+ 1`, `seed &+ 2`, …
/// in order of appearance) — what `Sequential.mlp`, `.cnn` and `.largeCNN` have always done.
public struct LayerBuilder {
    public var generator: SeededGenerator
    public let seed: UInt64
    private var dropouts: UInt64 = 0

    public init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
        self.seed = seed
    }

    /// The next dropout layer's seed.
    public mutating func nextDropoutSeed() -> UInt64 {
        dropouts += 1
        return seed &+ dropouts
    }
}

/// A layer type that model descriptions can name: its PyTorch name, its settings, how it checks them against
/// its input and how it builds the layer. Each layer declares its own beside its definition (`Linear.layerType`)
/// and `ModelDescription.layerTypes` lists them.
public struct LayerType: Sendable {
    public let name: String
    public let settings: [LayerSetting]
    /// Validates the (complete) settings against one input sample's shape; sizes are overflow-checked.
    public let check: @Sendable (LayerDescription, _ inputShape: [Int]) throws -> LayerShape
    /// Builds the layer from a description `check` accepted.
    public let make: @Sendable (LayerDescription, _ inputShape: [Int], inout LayerBuilder) -> Layer

    public init(name: String, settings: [LayerSetting],
                check: @escaping @Sendable (LayerDescription, [Int]) throws -> LayerShape,
                make: @escaping @Sendable (LayerDescription, [Int], inout LayerBuilder) -> Layer) {
        self.name = name
        self.settings = settings
        self.check = check
        self.make = make
    }

    /// A pooling layer with a square window and a stride equal to it, over an image (FashionLab's MaxPool2d and
    /// AvgPool2d): `{"type": NAME, "kernel_size": k}`; a `stride`, if given, must equal `kernel_size`.
    public static func squarePooling(_ name: String, make: @escaping @Sendable (_ size: Int) -> Layer) -> LayerType {
        LayerType(
            name: name,
            settings: [LayerSetting("kernel_size", .int), LayerSetting("stride", .int, default: .sameAs("kernel_size"))],
            check: { description, input in
                let (channels, height, width) = try ShapeCheck.image(input)
                let size = try ShapeCheck.size(description, "kernel_size")
                guard description.int("stride") == size else {
                    throw LayerProblem("stride \(description.int("stride")) must equal kernel_size \(size) (the only pooling FashionLab has)")
                }
                guard size <= height, size <= width else { throw LayerProblem("kernel_size \(size) is larger than its input (\(height)×\(width))") }
                return LayerShape(output: [channels, height / size, width / size])
            },
            make: { description, _, _ in make(description.int("kernel_size")) })
    }

    /// `arguments` with their kinds checked and the left-out settings filled in; the problem names the setting.
    func complete(_ arguments: [String: LayerArgument]) throws -> [String: LayerArgument] {
        for key in arguments.keys.sorted() where !settings.contains(where: { $0.name == key }) {
            let known = settings.isEmpty ? "it takes no settings" : "known: " + settings.map(\.name).joined(separator: ", ")
            throw LayerProblem("unknown key '\(key)' (\(known))")
        }
        var result: [String: LayerArgument] = [:]
        for setting in settings {
            if let value = arguments[setting.name] {
                switch (setting.kind, value) {
                case (.int, .int), (.bool, .bool): result[setting.name] = value
                case (.number, .int(let whole)): result[setting.name] = .number(Double(whole))
                case (.number, .number(let number)) where number.isFinite: result[setting.name] = value
                default: throw LayerProblem("\(setting.name) must be \(setting.kind.expected), got \(value)")
                }
            } else {
                switch setting.defaultValue {
                case .required: throw LayerProblem("missing \(setting.name)")
                case .value(let value): result[setting.name] = value
                case .sameAs: break
                }
            }
        }
        for setting in settings {
            if case .sameAs(let other) = setting.defaultValue, result[setting.name] == nil { result[setting.name] = result[other] }
        }
        return result
    }
}

/// A layer that can say what it is as a description (`ModelDescription.init(_:)` uses it).
public protocol DescribedLayer: Layer {
    var layerDescription: LayerDescription { get }
}

/// Overflow-checked arithmetic and shape checks for the layer types' `check`s.
public enum ShapeCheck {
    /// The product of `values`, or a problem when it does not fit in an `Int`.
    public static func product(_ values: [Int], _ what: @autoclosure () -> String) throws -> Int {
        var result = 1
        for value in values {
            let (next, overflow) = result.multipliedReportingOverflow(by: value)
            guard !overflow else { throw LayerProblem("\(what()) is too large") }
            result = next
        }
        return result
    }

    /// `a + b`, or a problem when it overflows.
    public static func sum(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
        let (result, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw LayerProblem("\(what()) is too large") }
        return result
    }

    /// The setting `name` as a whole number of at least `minimum`.
    public static func size(_ description: LayerDescription, _ name: String, minimum: Int = 1) throws -> Int {
        let value = description.int(name)
        guard value >= minimum else {
            throw LayerProblem(minimum == 1 ? "\(name) must be positive, got \(value)" : "\(name) must be at least \(minimum), got \(value)")
        }
        return value
    }

    /// The `[C, H, W]` of an input that must be an image.
    public static func image(_ shape: [Int]) throws -> (channels: Int, height: Int, width: Int) {
        guard shape.count == 3 else {
            throw LayerProblem("needs a [C, H, W] input, got \(shape)" + (shape.count == 1 ? " (set input_shape to [1, 28, 28] for images)" : ""))
        }
        return (shape[0], shape[1], shape[2])
    }
}

extension LayerDescription {
    /// A square pooling window of `size` with the stride equal to it (`LayerType.squarePooling`).
    public static func squarePooling(_ type: String, _ size: Int) -> LayerDescription {
        LayerDescription(type: type, arguments: ["kernel_size": .int(size), "stride": .int(size)])
    }
}
