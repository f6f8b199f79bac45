// snippet.hide
import FashionData
import FashionTraining
// snippet.show
import FashionCore
import FashionEngine
// snippet.hide

func ownNetwork() throws {
    let data = try FashionMNISTLoader().load()
    var config = TrainingConfig()
// snippet.show

var generator = SeededGenerator(seed: 0)
let model = Sequential(inputShape: [1, 28, 28], [
    Conv2d(1, 16, kernel: 3, padding: 1, using: &generator), BatchNorm(16, spatial: true), ReLU(), MaxPool2d(2),
    Conv2d(16, 32, kernel: 3, padding: 1, using: &generator), BatchNorm(32, spatial: true), ReLU(), MaxPool2d(2),
    Flatten(), Linear(32 * 7 * 7, 10, using: &generator),
])
config.optimizer = .adam
config.learningRate = 0.002
let trainer = try Trainer(model: model, config: config, train: data.train, test: data.test)
try trainer.run()
// snippet.hide
}
