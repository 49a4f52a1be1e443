import Foundation

/// The process's own memory, from /proc/self/status (Linux).
public enum ProcessMemory {
    /// VmHWM: the peak resident set size so far, in bytes; nil where /proc is not available.
    public static func peakResidentBytes(statusFile: String = "/proc/self/status") -> Int? {
        guard let text = try? String(contentsOfFile: statusFile, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // "VmHWM:    12345 kB"
            if fields.count >= 3, let kilobytes = Int(fields[1]), fields[2] == "kB" { return kilobytes * 1024 }
        }
        return nil
    }
}
