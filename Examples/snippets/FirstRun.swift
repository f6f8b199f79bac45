import FashionCharts
import FashionData
import FashionTraining
// snippet.hide

func firstRun() throws {
// snippet.show

let data = try FashionMNISTLoader().load()   // --data's search order: $FASHIONLAB_DATA, the cache, Debian's package; else a download
var config = TrainingConfig()                // MLP 784-1000-10, SGD 0.01, batch 32, scaled pixels
config.optimizer = .adam
config.learningRate = 0.001
let trainer = try Trainer(config: config, train: data.train, test: data.test)
let history = try trainer.run()
print(history.last!.validationAccuracy!)     // measured on the test set after every epoch, as the notebook does
// every file `fashionlab train` writes (metrics, model, curves, confusion matrix, report):
try RunArtifacts.saveFinished(history: trainer.history, model: trainer.model, test: data.test, to: "runs/adam")
let report = try EvaluationReport.measure(trainer.model, named: "adam", on: data.test, encoding: config.encoding)
print(report.accuracy, report.perClassAccuracy, report.mostConfused)   // what `fashionlab evaluate` prints
// snippet.hide
}
