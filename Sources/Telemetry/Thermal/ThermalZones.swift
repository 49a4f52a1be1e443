/// /sys/class/thermal/thermal_zone*/{type,temp}: the temperature fallback where hwmon has nothing
/// (Raspberry Pi's "cpu-thermal"). `temp` is in millidegrees Celsius.
public enum ThermalZones {
    public static let classDirectory = "/sys/class/thermal"

    public struct Zone: Codable, Hashable, Sendable {
        public let zone: String
        public let type: String
        public let path: String
        /// °C; nil when `temp` cannot be read (some zones return EINVAL or EAGAIN when idle).
        public let celsius: Double?
        public let readError: String?
    }

    public static func discover(_ reader: any SysfsReading) -> [Zone] {
        (reader.listDirectory(classDirectory) ?? []).filter { $0.hasPrefix("thermal_zone") }.map { zone in
            let directory = "\(classDirectory)/\(zone)"
            let path = "\(directory)/temp"
            var celsius: Double?
            var readError: String?
            do {
                celsius = Double(try reader.readInteger(path)) / 1000
            } catch {
                readError = "\(error)"
            }
            return Zone(zone: zone, type: reader.readOptionalText("\(directory)/type") ?? "unknown", path: path,
                        celsius: celsius, readError: readError)
        }
    }
}
