import Foundation

/// Signs that the CPU slowed itself down: Intel's per-CPU `thermal_throttle/*_count` files and, on a
/// Raspberry Pi, `vcgencmd get_throttled`.
public enum ThrottleSignals {
    public struct CPUCounts: Codable, Hashable, Sendable {
        public let cpu: String
        /// File name -> count ("core_throttle_count", "package_power_limit_count", ...).
        public let counts: [String: UInt64]
    }

    public static func intelCounts(_ reader: any SysfsReading) -> [CPUCounts] {
        CPUTopology.cpuDirectories(reader).compactMap { cpuDirectory in
            let directory = "\(cpuDirectory)/thermal_throttle"
            guard let entries = reader.listDirectory(directory) else { return nil }
            var counts: [String: UInt64] = [:]
            for entry in entries where entry.hasSuffix("_count") {
                if let value = try? reader.readUnsignedInteger("\(directory)/\(entry)") { counts[entry] = value }
            }
            return CPUCounts(cpu: String(cpuDirectory.split(separator: "/").last ?? ""), counts: counts)
        }
    }

    /// `vcgencmd get_throttled` -> the raw bit field ("throttled=0x50000"), or nil when the command
    /// is not installed. Bits 0-3: under-voltage, frequency capped, throttled, soft temperature limit
    /// now; bits 16-19: the same since boot.
    public static func raspberryPiThrottled() -> UInt64? {
        let candidates = ["/usr/bin/vcgencmd", "/opt/vc/bin/vcgencmd", "/usr/local/bin/vcgencmd"]
        guard let command = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = ["get_throttled"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let value = text[text.index(after: equals)...].trimmingCharacters(in: .whitespacesAndNewlines)
        return value.hasPrefix("0x") ? UInt64(value.dropFirst(2), radix: 16) : UInt64(value)
    }
}
