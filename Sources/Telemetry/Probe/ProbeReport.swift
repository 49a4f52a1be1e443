/// What this machine can measure, source by source. Encoded as the `probe --json` object, whose keys
/// are stable: the trade-off run embeds it.
public struct ProbeReport: Codable, Sendable {
    /// Whether a source works, and if not, why and how to fix it.
    public struct Status: Codable, Hashable, Sendable {
        public enum State: String, Codable, Sendable {
            case available
            /// Present and readable but did not advance over the probe window (virtualised?).
            case presentNotAdvancing = "present-not-advancing"
            /// Present but cannot be read or opened.
            case unreadable
            case unavailable
            /// Listed from a captured tree; liveness not checked.
            case notChecked = "not-checked"
        }
        public var state: State
        public var reason: String?
        public var fix: String?

        public static let available = Status(state: .available, reason: nil, fix: nil)
        public static func unavailable(_ reason: String, fix: String?) -> Status {
            Status(state: .unavailable, reason: reason, fix: fix)
        }
    }

    public struct Machine: Codable, Sendable {
        public var cpuModel: String?
        public var logicalCPUs: Int?
        public var cpuInfoSource: String?
        public var virtualisation: VirtualisationHint
    }

    public struct EnergyDomainReport: Codable, Sendable {
        public var domain: EnergyDomain
        public var maxEnergyRangeMicrojoules: UInt64?
        /// µJ (powercap, hwmon) or raw counts (perf) at the start of the probe window.
        public var firstReading: UInt64?
        public var secondReading: UInt64?
        public var status: Status
    }

    public struct PerfPowerEventReport: Codable, Sendable {
        public var event: String
        public var config: UInt64
        public var scale: Double
        public var unit: String
    }

    public struct EnergySource: Codable, Sendable {
        public var status: Status
        public var domains: [EnergyDomainReport]
        /// Problems found while listing (unreadable `name`, malformed `.scale`...), naming the file.
        public var problems: [String]
    }

    public struct PerfPowerSource: Codable, Sendable {
        public var status: Status
        public var pmuType: UInt32?
        public var cpus: [Int32]
        public var events: [PerfPowerEventReport]
        public var domains: [EnergyDomainReport]
        public var problems: [String]
    }

    public struct Energy: Codable, Sendable {
        public var powercap: EnergySource
        public var perfPowerPMU: PerfPowerSource
        public var hwmon: EnergySource
        /// Domains that can be summed without double counting, per interface that works.
        public var nonOverlappingDomainIDs: [String]
        /// What a run falls back to when no source works.
        public var fallback: String
    }

    public struct CounterReport: Codable, Sendable {
        public var event: String
        public var fullyQualifiedName: String?
        public var status: Status
        public var errno: Int32?
        /// Multiplex-scaled count over the probe's small workload.
        public var value: Double?
        public var multiplexed: Bool?
    }

    public struct Counters: Codable, Sendable {
        public var scope: String
        public var perfEventParanoid: Int64?
        public var events: [CounterReport]
    }

    public struct Sensors: Codable, Sendable {
        /// "libsensors" on the live system, "sysfs hwmon files" for a captured tree.
        public var via: String
        public var status: Status
        public var chips: [SensorChip]
    }

    public struct Thermal: Codable, Sendable {
        public var status: Status
        public var zones: [ThermalZones.Zone]
    }

    public struct Frequency: Codable, Sendable {
        public var status: Status
        public var cpus: [CPUFreq.CPU]
    }

    public struct Throttling: Codable, Sendable {
        public var status: Status
        public var intelThermalThrottle: [ThrottleSignals.CPUCounts]
        /// `vcgencmd get_throttled` bit field on a Raspberry Pi; nil when the command is absent.
        public var raspberryPiThrottled: UInt64?
    }

    public var sysfsRoot: String
    public var live: Bool
    public var probeWindowSeconds: Double
    public var machine: Machine
    public var energy: Energy
    public var counters: Counters
    public var sensors: Sensors
    public var thermal: Thermal
    public var frequency: Frequency
    public var throttling: Throttling
}
