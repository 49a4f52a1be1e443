/// CPU model, logical CPU count and flags from /proc/cpuinfo (x86 "model name"; arm64 "Model" or
/// "Hardware" or the implementer/part codes).
public struct CPUInfo: Codable, Hashable, Sendable {
    public let model: String
    public let logicalCPUs: Int
    public let flags: [String]
    /// The file it was read from, e.g. "<root>/proc/cpuinfo" or "/proc/cpuinfo".
    public let source: String

    public static func parse(_ text: String, source: String) -> CPUInfo {
        var model: String?
        var boardModel: String?
        var hardware: String?
        var part: String?
        var processors = 0
        var flags: [String] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "processor": processors += 1
            case "model name": if model == nil { model = value }
            case "Model": boardModel = value
            case "Hardware": hardware = value
            case "CPU part": if part == nil { part = value }
            case "flags", "Features": if flags.isEmpty { flags = value.split(separator: " ").map(String.init) }
            default: break
            }
        }
        let name = model ?? boardModel ?? hardware ?? part.map { "CPU part \($0)" } ?? "unknown"
        return CPUInfo(model: name, logicalCPUs: processors, flags: flags, source: source)
    }

    /// From the reader's root when it has /proc/cpuinfo, else from the running system.
    public static func read(_ reader: any SysfsReading) -> CPUInfo? {
        if let text = try? reader.readText("/proc/cpuinfo") {
            return parse(text, source: reader.isLiveSystem ? "/proc/cpuinfo" : "\(reader.root)/proc/cpuinfo")
        }
        if !reader.isLiveSystem, let text = try? SysfsReader().readText("/proc/cpuinfo") {
            return parse(text, source: "/proc/cpuinfo (live system; the capture has none)")
        }
        return nil
    }
}

import Foundation
