/// hwmon chips read straight from sysfs (/sys/class/hwmon/hwmon*), converting to libsensors' units.
///
/// libsensors only reads the real /sys, so captured trees (--sysfs-root) and the hwmon energy path
/// use this reader. Attributes live in hwmonN/ or, for older drivers, in hwmonN/device/.
public enum HwmonSysfs {
    public static let classDirectory = "/sys/class/hwmon"

    /// One hwmon attribute with an `_input` (or power `_average`) value.
    public struct InputAttribute: Hashable, Sendable {
        public let chipDirectory: String
        public let chipName: String
        /// "temp1", "power1"...
        public let feature: String
        public let quantity: SensorQuantity
        public let label: String
        /// Full path of the value file (raw sysfs units).
        public let path: String
    }

    public static func chipDirectories(_ reader: any SysfsReading) -> [String] {
        (reader.listDirectory(classDirectory) ?? []).filter { $0.hasPrefix("hwmon") }.map { "\(classDirectory)/\($0)" }
    }

    /// Every readable-looking input attribute of every chip.
    public static func inputs(_ reader: any SysfsReading) -> [InputAttribute] {
        chipDirectories(reader).flatMap { inputs(ofChip: $0, reader) }
    }

    public static func chipName(_ directory: String, _ reader: any SysfsReading) -> String {
        reader.readOptionalText("\(directory)/name") ?? reader.readOptionalText("\(directory)/device/name")
            ?? String(directory.split(separator: "/").last ?? "hwmon")
    }

    static func inputs(ofChip directory: String, _ reader: any SysfsReading) -> [InputAttribute] {
        let name = chipName(directory, reader)
        var result: [InputAttribute] = []
        var seen = Set<String>()
        for attributeDirectory in [directory, "\(directory)/device"] {
            for entry in reader.listDirectory(attributeDirectory) ?? [] {
                guard let (prefix, index, suffix) = splitAttribute(entry) else { continue }
                let feature = "\(prefix)\(index)"
                let usable = suffix == "input" || (prefix == "power" && suffix == "average")
                guard usable, !seen.contains(feature) else { continue }
                seen.insert(feature)
                let label = reader.readOptionalText("\(attributeDirectory)/\(feature)_label") ?? feature
                result.append(InputAttribute(chipDirectory: directory, chipName: name, feature: feature,
                                             quantity: SensorQuantity(hwmonPrefix: prefix), label: label,
                                             path: "\(attributeDirectory)/\(entry)"))
            }
        }
        return result
    }

    /// "temp12_input" -> ("temp", 12, "input").
    static func splitAttribute(_ entry: String) -> (String, Int, String)? {
        guard let underscore = entry.firstIndex(of: "_") else { return nil }
        let head = entry[..<underscore]
        let suffix = String(entry[entry.index(after: underscore)...])
        guard let digitStart = head.firstIndex(where: { $0.isASCII && $0.isNumber }) else { return nil }
        let prefix = String(head[..<digitStart])
        guard !prefix.isEmpty, let index = Int(head[digitStart...]) else { return nil }
        return (prefix, index, suffix)
    }

    /// The chips with their current values in libsensors' units.
    public static func chips(_ reader: any SysfsReading) -> [SensorChip] {
        chipDirectories(reader).map { directory in
            let features = inputs(ofChip: directory, reader).map { input in
                SensorFeature(name: input.feature, label: input.label, quantity: input.quantity,
                              value: (try? reader.readDouble(input.path)).map { $0 / input.quantity.sysfsDivisor },
                              path: input.path)
            }
            return SensorChip(name: chipName(directory, reader), path: directory, features: features)
        }
    }
}
