import FashionCore
import FashionEngine
// snippet.hide

func ownLayer() throws {
// snippet.show

/// `x` where x > 0, else `slope · x` (`nn.LeakyReLU(negative_slope)`).
final class LeakyReLU: DescribedLayer {
    let slope: Float
    private var input: Tensor?
    init(slope: Float = 0.01) { self.slope = slope }

    func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    var summary: String { "LeakyReLU(negative_slope=\(slope))" }

    func forward(_ x: Tensor, training: Bool) -> Tensor {
        input = x
        return Tensor(shape: x.shape, values: x.toArray().map { $0 > 0 ? $0 : slope * $0 })
    }

    func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let (x, g) = (input!.toArray(), dy.toArray())
        return Tensor(shape: dy.shape, values: g.indices.map { x[$0] > 0 ? g[$0] : slope * g[$0] })
    }

    // Its description (PyTorch's class and argument names, so load_in_pytorch.py rebuilds it) and its type:
    var layerDescription: LayerDescription { LayerDescription(type: "LeakyReLU", arguments: ["negative_slope": .decimal(slope)]) }
    static let layerType = LayerType(
        name: "LeakyReLU", settings: [LayerSetting("negative_slope", .number, default: .value(.number(0.01)))],
        check: { _, input in LayerShape(output: input) },
        make: { description, _, _ in LeakyReLU(slope: Float(description.number("negative_slope"))) })
}

try ModelDescription.register(LeakyReLU.layerType)   // once, before a network with it is built, saved or loaded
// snippet.hide
}
