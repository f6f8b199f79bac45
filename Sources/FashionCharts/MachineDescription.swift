import Foundation

/// Facts about the machine a report was made on.
public enum MachineDescription {
    /// The CPU model, from /proc/cpuinfo on Linux.
    public static var cpuModel: String {
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":", maxSplits: 1).last {
            return name.trimmingCharacters(in: .whitespaces)
        }
        return "unknown CPU"
    }

    /// Operating system and kernel.
    public static var system: String {
        var info = utsname()
        uname(&info)
        func string<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(string(info.sysname)) \(string(info.release)) \(string(info.machine))"
    }

    /// Cores and memory.
    public static var resources: String {
        let gigabytes = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(String(format: "%.0f", gigabytes)) GiB memory"
    }
}
