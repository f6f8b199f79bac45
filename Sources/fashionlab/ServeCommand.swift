import ArgumentParser
import FashionServe
import Foundation

/// `fashionlab serve`: the live dashboard of the runs under a folder, run comparison, and a page to try a model.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a live web dashboard of the runs under a folder, a comparison of runs, and a page to try a model on a photo.",
        discussion: """
            Every run, study and lab under --runs is listed with its status (running, finished, diverged, interrupted); \
            pages follow runs that train meanwhile (fashionlab train --out DIR/NAME, study, lab) without a reload. \
            Read-only: nothing under DIR is created or changed, no symbolic link is followed. Listens on 127.0.0.1 unless \
            --host says otherwise. Pictures sent to predict: at most 10 MB and 50 megapixels.
            """)

    @Option(help: ArgumentHelp("The folder whose runs to show (searched 8 levels deep).", valueName: "DIR"))
    var runs = "runs"

    @Option(help: ArgumentHelp("The address to listen on (0.0.0.0: every network interface, reachable by others).", valueName: "HOST"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("The port to listen on (0: any free one, printed at start).", valueName: "PORT"))
    var port = 8080

    @Option(help: ArgumentHelp("Directory with Fashion-MNIST, for the confusion matrices (default: where train looks).", valueName: "DIR"))
    var data: String?

    @Option(name: .customLong("request-time"), help: ArgumentHelp("Seconds a client has to send a whole request (a slower one is disconnected).", valueName: "SECONDS"))
    var requestTime = 20

    func validate() throws {
        guard (1...3600).contains(requestTime) else { throw ValidationError("--request-time must be 1 to 3600 seconds, got \(requestTime)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
        guard FileManager.default.fileExists(atPath: runs) else { throw ValidationError("--runs \(runs): no such directory") }
    }

    func run() throws {
        var settings = Dashboard.Settings(runs: runs, host: host, port: port, data: data)
        settings.requestTime = .seconds(requestTime)
        let dashboard = try Dashboard(settings: settings)
        // The command-line parser is synchronous: the server runs in a task, and this thread waits for it to end.
        let ended = Outcome()
        Task {
            do {
                try await dashboard.run { address in
                    // Unbuffered: a script or test reads the address from a pipe at once.
                    FileHandle.standardOutput.write(Data("Serving the runs under \(dashboard.settings.runs) at \(address)  (Ctrl-C stops)\n".utf8))
                }
            } catch {
                ended.error = error
            }
            ended.done.signal()
        }
        ended.done.wait()
        if let error = ended.error { throw error }
    }

    private final class Outcome: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var error: Error?
    }
}
