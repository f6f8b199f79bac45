import FashionCore
import FashionEngine
// snippet.hide

func trainingStep() {
    let (inputs, labels) = (Tensor(shape: [32, 784]), LabelBuffer(capacity: 32))
// snippet.show

var generator = SeededGenerator(seed: 0)
let model = Sequential(inputShape: [784], [Linear(784, 1000, using: &generator), ReLU(), Linear(1000, 10, using: &generator)])
let loss = SoftmaxCrossEntropy()
let optimizer = Adam(learningRate: 0.001)       // made once: it keeps its moments from step to step
// one step, for a batch `inputs` (a Tensor [B, 784]) and its `labels` (a LabelBuffer [B]):
model.zeroGradients()                           // backward passes add (+=) into the gradients: clear them first
let logits = model.forward(inputs, training: true)
let result = loss(logits, labels)               // result.loss: the batch's mean loss
model.backward(loss.gradient!)
optimizer.step(model.parameters)
// snippet.hide
    _ = result
}
