import FashionCore
import FashionEngine
import FashionTraining
import Foundation

/// The files of one run directory: `metrics.json`, `metrics.csv`, `model.safetensors`.
enum RunFiles {
    static func save(history: TrainingHistory, model: Sequential, to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(history)
        try AtomicFile.write(Array(json), to: directory + "/metrics.json")
        try AtomicFile.write(text: history.csv(), to: directory + "/metrics.csv")
        let metadata = [
            "format": "pt",
            "fashionlab_config": String(decoding: try JSONEncoder().encode(history.config), as: UTF8.self),
            "fashionlab_metrics": String(decoding: try JSONEncoder().encode(history.epochs), as: UTF8.self),
        ]
        try model.stateDict(metadata: metadata).write(to: directory + "/model.safetensors")
    }
}
