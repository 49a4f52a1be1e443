/// Non-energy values sampled alongside energy: temperatures (°C) and frequencies (kHz).
public protocol GaugeSource: AnyObject, Sendable {
    /// Column names, e.g. "thermal_zone0 cpu-thermal °C".
    var names: [String] { get }
    /// One value per name; nil when unreadable this time.
    func read() -> [Double?]
}

/// Gauges read from sysfs files with a divisor (millidegrees -> °C; kHz kept as kHz).
public final class SysfsGaugeSource: GaugeSource, @unchecked Sendable {
    public struct Gauge: Sendable {
        public let name: String
        public let path: String
        public let divisor: Double
        public init(name: String, path: String, divisor: Double) {
            self.name = name
            self.path = path
            self.divisor = divisor
        }
    }

    public let gauges: [Gauge]
    private let reader: any SysfsReading
    public var names: [String] { gauges.map(\.name) }

    public init(reader: any SysfsReading, gauges: [Gauge]) {
        self.reader = reader
        self.gauges = gauges
    }

    /// Every thermal zone, hwmon temperature and cpufreq current frequency under the reader's root.
    public static func standard(_ reader: any SysfsReading) -> SysfsGaugeSource {
        var gauges: [Gauge] = []
        for zone in ThermalZones.discover(reader) {
            gauges.append(Gauge(name: "\(zone.zone) \(zone.type) °C", path: zone.path, divisor: 1000))
        }
        for input in HwmonSysfs.inputs(reader) where input.quantity == .temperature {
            gauges.append(Gauge(name: "\(input.chipName) \(input.label) °C", path: input.path, divisor: 1000))
        }
        for cpu in CPUFreq.discover(reader) {
            gauges.append(Gauge(name: "\(cpu.cpu) kHz", path: cpu.curFreqPath, divisor: 1))
        }
        return SysfsGaugeSource(reader: reader, gauges: gauges)
    }

    public func read() -> [Double?] {
        gauges.map { gauge in (try? reader.readDouble(gauge.path)).map { $0 / gauge.divisor } }
    }
}
