/// cpufreq per CPU: /sys/devices/system/cpu/cpuN/cpufreq/{scaling_cur_freq,scaling_governor,
/// cpuinfo_min_freq,cpuinfo_max_freq}, frequencies in kHz.
public enum CPUFreq {
    public struct CPU: Codable, Hashable, Sendable {
        public let cpu: String
        public let currentKHz: UInt64?
        public let minimumKHz: UInt64?
        public let maximumKHz: UInt64?
        public let governor: String?
        public let curFreqPath: String
    }

    public static func discover(_ reader: any SysfsReading) -> [CPU] {
        CPUTopology.cpuDirectories(reader).compactMap { cpuDirectory in
            let directory = "\(cpuDirectory)/cpufreq"
            guard reader.isDirectory(directory) else { return nil }
            return CPU(cpu: String(cpuDirectory.split(separator: "/").last ?? ""),
                       currentKHz: try? reader.readUnsignedInteger("\(directory)/scaling_cur_freq"),
                       minimumKHz: try? reader.readUnsignedInteger("\(directory)/cpuinfo_min_freq"),
                       maximumKHz: try? reader.readUnsignedInteger("\(directory)/cpuinfo_max_freq"),
                       governor: reader.readOptionalText("\(directory)/scaling_governor"),
                       curFreqPath: "\(directory)/scaling_cur_freq")
        }
    }
}
