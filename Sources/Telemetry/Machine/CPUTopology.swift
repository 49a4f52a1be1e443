/// The CPU directories under /sys/devices/system/cpu ("cpu0", "cpu1", ...).
public enum CPUTopology {
    public static let directory = "/sys/devices/system/cpu"

    public static func cpuDirectories(_ reader: any SysfsReading) -> [String] {
        (reader.listDirectory(directory) ?? []).filter { name in
            name.hasPrefix("cpu") && name.count > 3 && name.dropFirst(3).allSatisfy { $0.isASCII && $0.isNumber }
        }.map { "\(directory)/\($0)" }
    }
}
