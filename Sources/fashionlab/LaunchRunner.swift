import ArgumentParser
import FashionCore
import FashionEngine
import FashionInterop
import FashionStudies
import FashionTraining
import Foundation

/// What a study or lab does here (`--run-index`, `--report-only`, or neither).
enum LaunchMode {
    /// Every run (up to `parallelRuns` side by side where the device trains runs so; default one per core), then the report.
    case everything(parallelRuns: Int?)
    /// Run `index` of the distinct runs only, as Slurm array task `index` does; no report.
    case run(index: Int)
    /// The report from finished runs (the Slurm report job's): nothing is trained.
    case reportOnly
}

/// Runs a ``StudyLaunch`` here for `study`, `lab` and `cluster-job`: the same library calls, with progress and the
/// summary in the terminal.
enum LaunchRunner {
    /// With `tensorboard`, every run trained or reused writes its TensorBoard event files there (`TensorBoardLogdir`).
    static func run(_ launch: StudyLaunch, _ mode: LaunchMode, data dataDirectory: String?, device: DeviceChoice, quiet: Bool,
                    tensorboard: String? = nil) throws {
        let start = DispatchTime.now()
        let events = try tensorboard.map(TensorBoardLogdir.init(path:))
        let (backend, suffix, note) = try select(device, for: mode, quiet: quiet)
        let data = try DataOptions.load(from: dataDirectory, quiet: quiet)
        let runner = StudyRunner(data: data, out: launch.out, backend: backend, runDirectorySuffix: suffix)
        let name = launch.kind == .lab ? "lab" : launch.studies[0].name

        let results: [StudyResult]
        switch mode {
        case .run(let index):
            let run = try launch.distinctRuns.run(at: index)
            StudyProgress.attach(to: runner, study: Study(name: name, kind: .custom, runs: [run]), quiet: quiet)
            let result = try StudyProgress.interruptible { try launch.trainRun(at: index, with: runner) }
            if !quiet { print("Run in \(result.directory)") }
            return
        case .reportOnly:
            results = try runner.finishedResults(launch.studies)
            if !quiet, launch.kind == .study {
                for (index, run) in results[0].runs.enumerated() { print(StudyProgress.line(run, study: name, index: index, count: results[0].runs.count)) }
            }
        case .everything(let parallelRuns):
            if !quiet, launch.kind == .lab {
                try launch.writeSamples(data)
                print("Fashion-MNIST: \(data.train.imageShape) training and \(data.test.imageShape) test images, 10 classes; samples in \(launch.out)/\(StudyLaunch.samplesFile)")
            }
            // One GPU trains one run at a time; on the CPU, the lab's runs go side by side.
            let sideBySide = launch.kind == .lab && (backend?.trainsRunsSideBySide ?? false)
            let concurrentRuns = sideBySide ? parallelRuns ?? Threads.count : 1
            if concurrentRuns > 1 {
                StudyProgress.attachSideBySide(to: runner, studies: launch.studies, quiet: quiet)
                events?.attach(to: runner)
            }
            results = try StudyProgress.interruptible {
                try launch.train(with: runner, concurrentRuns: concurrentRuns) {
                    StudyProgress.attach(to: runner, study: $0, quiet: quiet)
                    events?.attach(to: runner)
                }
            }
            for failure in events?.failures ?? [] { Terminal.note(failure) }
        }

        let lines = try launch.writeReport(results, data: data, device: note)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        switch launch.kind {
        case .study:
            guard !quiet else { return }
            for line in lines { print(line) }
            let study = launch.studies[0]
            print(String(format: "Wrote %@/report.html, curves.svg%@ (%.1f s)", try study.outputDirectory(under: launch.out), study.showsWeights ? ", weights.svg" : "", seconds))
        case .lab:
            print("")
            for line in lines { print(line) }
            print("")
            if case .reportOnly = mode {
                print(String(format: "The report took %.1f s (its runs were trained by Slurm tasks). Report: %@/index.html", seconds, launch.out))
            } else {
                print(String(format: "The lab took %.1f s (report included). Report: %@/index.html", seconds, launch.out))
            }
        }
    }

    /// The device the runs train on, the suffix of their directories and the line that says so: the chosen
    /// device's; for the report from finished runs, the one they were trained on, without needing it (a GPU
    /// study's Slurm report job runs on any node; `auto` is resolved here).
    static func select(_ device: DeviceChoice, for mode: LaunchMode, quiet: Bool) throws -> (backend: ComputeBackend?, suffix: String?, note: String) {
        if case .reportOnly = mode, let suffix = device.runDirectorySuffix {
            return (nil, suffix, device == .cuda ? "CUDA (runs trained by Slurm array tasks)" : "CPU (runs trained by Slurm array tasks)")
        }
        let (backend, note) = try DeviceOptions.select(device, quiet: quiet)
        return (backend, nil, note)
    }
}
