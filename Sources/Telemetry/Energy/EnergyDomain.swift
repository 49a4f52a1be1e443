/// Which kernel interface an energy domain is read through.
public enum EnergyInterface: String, Codable, Sendable, CaseIterable {
    /// `/sys/class/powercap/intel-rapl:*` (MSR-based RAPL; also AMD's RAPL through the same driver).
    case powercap
    /// `/sys/class/powercap/intel-rapl-mmio:*` (the same package counter through MMIO on client parts).
    case powercapMMIO = "powercap-mmio"
    /// The perf `power` PMU (`/sys/bus/event_source/devices/power`).
    case perfPowerPMU = "perf-power-pmu"
    /// An hwmon `energyN_input` counter (µJ), e.g. amd_energy.
    case hwmonEnergy = "hwmon-energy"
    /// An hwmon `powerN_input` gauge (µW) integrated over time (trapezoid), e.g. an INA226 board.
    case hwmonPower = "hwmon-power"
}

/// What part of the machine a domain covers.
public enum EnergyDomainKind: String, Codable, Sendable {
    case psys, package, core, uncore, dram, board, other

    /// Kind from a RAPL zone name ("package-0", "core", "uncore", "dram", "psys") or a perf power
    /// event name ("energy-pkg", "energy-cores", "energy-gpu", "energy-ram", "energy-psys").
    public init(raplName name: String) {
        let lower = name.lowercased()
        switch lower {
        case _ where lower.hasPrefix("package"), "energy-pkg": self = .package
        case "core", "cores", "energy-cores": self = .core
        case "uncore", "energy-gpu": self = .uncore
        case "dram", "energy-ram": self = .dram
        case "psys", "energy-psys": self = .psys
        default: self = .other
        }
    }
}

/// How a domain's raw value turns into energy.
public enum EnergyQuantity: String, Codable, Sendable {
    /// A monotonically increasing counter (may wrap at `counterModulus`).
    case counter
    /// An instantaneous power reading in µW, integrated by the sampler.
    case powerMicrowatts = "power-microwatts"
}

/// One energy domain, with its place in the nesting so joins never sum overlapping domains.
///
/// `parentID` is the kernel's own hierarchy (a powercap subzone's parent zone). `containedInID` is
/// physical containment of the *energy*: core and uncore are inside their package, packages and DRAM
/// inside psys. They differ on servers, where DRAM is a subzone of the package in sysfs but its energy
/// is not part of the package's.
public struct EnergyDomain: Codable, Hashable, Sendable {
    /// Stable identifier, e.g. "powercap/intel-rapl:0:1" or "perf-power/energy-pkg@cpu0".
    public let id: String
    /// The name the kernel gives it ("package-0", "energy-pkg", "Esocket0"...).
    public let name: String
    public let kind: EnergyDomainKind
    public let interface: EnergyInterface
    /// Socket number where known.
    public let socket: Int?
    public let parentID: String?
    public let containedInID: String?
    /// Another domain measuring the same energy (MMIO package vs MSR package); never sum both.
    public let duplicateOfID: String?
    /// The file or event read (as the kernel names it).
    public let path: String
    public let quantity: EnergyQuantity
    /// Raw counter values run 0 ..< counterModulus; nil when the counter is 64-bit and never wraps in
    /// practice (perf PMU, hwmon energy).
    public let counterModulus: UInt64?
    /// µJ per raw count (1 for powercap and hwmon energy; perf's `.scale` × 10⁶ for the power PMU).
    public let microjoulesPerCount: Double

    public init(id: String, name: String, kind: EnergyDomainKind, interface: EnergyInterface, socket: Int?,
                parentID: String?, containedInID: String?, duplicateOfID: String?, path: String,
                quantity: EnergyQuantity, counterModulus: UInt64?, microjoulesPerCount: Double) {
        self.id = id
        self.name = name
        self.kind = kind
        self.interface = interface
        self.socket = socket
        self.parentID = parentID
        self.containedInID = containedInID
        self.duplicateOfID = duplicateOfID
        self.path = path
        self.quantity = quantity
        self.counterModulus = counterModulus
        self.microjoulesPerCount = microjoulesPerCount
    }

    /// `max_energy_range_uj` for powercap domains: the largest value the counter shows.
    public var maxRangeMicrojoules: UInt64? { counterModulus.map { $0 - 1 } }
}

/// Choosing domains that can be summed.
public enum EnergyTopology {
    /// The outermost domains: not inside another listed domain and not a duplicate of one. Their sum
    /// counts every joule once (psys alone when present; otherwise each package plus each DRAM).
    public static func nonOverlappingDomains(_ domains: [EnergyDomain]) -> [EnergyDomain] {
        let listed = Set(domains.map(\.id))
        return domains.filter { domain in
            if let container = domain.containedInID, listed.contains(container) { return false }
            if let original = domain.duplicateOfID, listed.contains(original) { return false }
            return true
        }
    }

    /// Interfaces in order of preference: powercap is exact µJ; the perf PMU reads the same RAPL
    /// counters; hwmon energy counters next; integrated power last.
    public static let interfacePreference: [EnergyInterface] = [.powercap, .perfPowerPMU, .powercapMMIO,
                                                                .hwmonEnergy, .hwmonPower]

    /// The non-overlapping domains of the most preferred interface present. Different interfaces
    /// often read the same hardware counter (powercap package-0 = perf energy-pkg on cpu 0), so totals
    /// never mix interfaces.
    public static func preferredNonOverlappingDomains(_ domains: [EnergyDomain]) -> [EnergyDomain] {
        for interface in interfacePreference {
            let candidates = domains.filter { $0.interface == interface }
            if !candidates.isEmpty { return nonOverlappingDomains(candidates) }
        }
        return []
    }

    /// Every domain whose energy is (transitively) inside `container`.
    public static func descendants(of container: EnergyDomain, in domains: [EnergyDomain]) -> [EnergyDomain] {
        let byID = Dictionary(domains.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return domains.filter { domain in
            var next = domain.containedInID
            var hops = 0
            while let id = next, hops < 16 {
                if id == container.id { return true }
                next = byID[id]?.containedInID
                hops += 1
            }
            return false
        }
    }
}
