// snippet.hide
import FashionEngine

func modelDescriptionRoundTrip() throws {
// snippet.show
let description = try ModelDescription.read("net.json")   // validated: errors name the layer and the problem
let model = try Sequential(description: description, seed: 0)
print(try ModelDescription(model).json(pretty: true))      // and back
// snippet.hide
}
