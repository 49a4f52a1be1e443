/// What a hardware-monitoring feature measures, with the unit libsensors reports it in.
public enum SensorQuantity: String, Codable, Sendable {
    case temperature, voltage, current, power, energy, fan, humidity, other

    /// libsensors' unit for this quantity (the sysfs value divided by `sysfsDivisor`).
    public var unit: String {
        switch self {
        case .temperature: return "°C"
        case .voltage: return "V"
        case .current: return "A"
        case .power: return "W"
        case .energy: return "J"
        case .fan: return "RPM"
        case .humidity: return "%RH"
        case .other: return ""
        }
    }

    /// hwmon sysfs units (Documentation/hwmon/sysfs-interface.rst): millidegrees, mV, mA, µW, µJ,
    /// RPM, milli-percent.
    public var sysfsDivisor: Double {
        switch self {
        case .temperature, .voltage, .current, .humidity: return 1_000
        case .power, .energy: return 1_000_000
        case .fan, .other: return 1
        }
    }

    /// The hwmon attribute prefix ("temp", "in", ...).
    init(hwmonPrefix: String) {
        switch hwmonPrefix {
        case "temp": self = .temperature
        case "in": self = .voltage
        case "curr": self = .current
        case "power": self = .power
        case "energy": self = .energy
        case "fan": self = .fan
        case "humidity": self = .humidity
        default: self = .other
        }
    }
}

/// One feature of a chip ("temp1", "power1"...), value in libsensors' units.
public struct SensorFeature: Codable, Hashable, Sendable {
    public let name: String
    public let label: String
    public let quantity: SensorQuantity
    /// Value in `quantity.unit`; nil when the input could not be read.
    public let value: Double?
    /// The file it came from, when read from sysfs directly.
    public let path: String?
    public var unit: String { quantity.unit }
}

/// A hardware-monitoring chip (one hwmon device).
public struct SensorChip: Codable, Hashable, Sendable {
    /// The driver name ("coretemp", "ina226", "amd_energy") or libsensors' chip name.
    public let name: String
    /// Where it lives ("/sys/class/hwmon/hwmon2") when known.
    public let path: String?
    public let features: [SensorFeature]
}
