import FashionData
import FashionStudies
// snippet.hide

func studies() throws {
// snippet.show

let data = try FashionMNISTLoader().load()
// A built-in study (or StudyFile.read("my-study.json")), every run once per seed, as `fashionlab study` runs it:
let launch = StudyLaunch(study: BuiltinStudies.optimizer.withEpochs(2).withSeeds([0, 1]), out: "studies", language: .english)
let results = try launch.train(with: StudyRunner(data: data, out: launch.out))   // runs in studies/runs, reused when run again
for line in try launch.writeReport(results, data: data, device: "CPU") { print(line) }   // studies/optimizer/report.html; the findings
// snippet.hide
}
