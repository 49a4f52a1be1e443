/// RAPL energy through the powercap sysfs tree (Documentation/power/powercap/powercap.rst).
///
/// Zones appear flat in /sys/class/powercap as `intel-rapl:<pkg>` (top level: "package-N" or "psys"),
/// `intel-rapl:<pkg>:<n>` (subzones: "core", "uncore", "dram") and `intel-rapl-mmio:<pkg>` (the same
/// package counter through MMIO). The nesting is in the zone id; the meaning is in each `name` file.
public enum PowercapRAPL {
    public static let classDirectory = "/sys/class/powercap"

    /// A zone as found, with whether its counter can be read right now.
    public struct Zone: Sendable {
        public let domain: EnergyDomain
        /// `energy_uj` now, or why it cannot be read (root-only since CVE-2020-8694).
        public let energyNow: Result<UInt64, SysfsReadError>
    }

    public struct Discovery: Sendable {
        public let zones: [Zone]
        /// Zone directories that could not be described (missing `name`, bad range...), with the file.
        public let problems: [SysfsReadError]
        public var domains: [EnergyDomain] { zones.map(\.domain) }
    }

    public static func discover(_ reader: any SysfsReading) -> Discovery {
        let entries = (reader.listDirectory(classDirectory) ?? []).filter(isEnergyZone)
        var problems: [SysfsReadError] = []
        struct Described { let zoneID: String; let name: String; let modulus: UInt64 }
        var described: [Described] = []
        for zoneID in entries {
            let directory = "\(classDirectory)/\(zoneID)"
            do {
                let name = try reader.readText("\(directory)/name").trimmingWhitespace()
                let maxRange = try reader.readUnsignedInteger("\(directory)/max_energy_range_uj")
                // The counter shows 0 ... max_energy_range_uj, so it counts modulo max + 1.
                described.append(Described(zoneID: zoneID, name: name, modulus: maxRange &+ 1))
            } catch let error as SysfsReadError {
                problems.append(error)
            } catch {
                problems.append(.ioError(path: directory, errno: 0))
            }
        }

        func domainID(_ zoneID: String) -> String { "powercap/\(zoneID)" }
        let byZone = Dictionary(described.map { ($0.zoneID, $0) }, uniquingKeysWith: { first, _ in first })
        let psys = described.first { !$0.zoneID.hasPrefix("intel-rapl-mmio") && EnergyDomainKind(raplName: $0.name) == .psys }
        let msrPackages = described.filter { parentZone(of: $0.zoneID) == nil && !$0.zoneID.hasPrefix("intel-rapl-mmio")
            && EnergyDomainKind(raplName: $0.name) == .package }

        var zones: [Zone] = []
        for zone in described {
            let kind = EnergyDomainKind(raplName: zone.name)
            let isMMIO = zone.zoneID.hasPrefix("intel-rapl-mmio")
            let parent = parentZone(of: zone.zoneID).flatMap { byZone[$0] }
            let socket = socketNumber(name: zone.name) ?? parent.flatMap { socketNumber(name: $0.name) }
            var containedIn: String?
            var duplicateOf: String?
            switch kind {
            case .core, .uncore:
                containedIn = parent.map { domainID($0.zoneID) }
            case .package where isMMIO:
                duplicateOf = msrPackages.first { socketNumber(name: $0.name) == socket }.map { domainID($0.zoneID) }
            case .package, .dram:
                containedIn = psys.map { domainID($0.zoneID) }
            default:
                // Unknown subzones are assumed inside their parent rather than risk double counting.
                containedIn = parent.map { domainID($0.zoneID) }
            }
            if isMMIO && kind != .package {
                containedIn = containedIn ?? parent.map { domainID($0.zoneID) }
            }
            let path = "\(classDirectory)/\(zone.zoneID)/energy_uj"
            let domain = EnergyDomain(
                id: domainID(zone.zoneID), name: zone.name, kind: kind,
                interface: isMMIO ? .powercapMMIO : .powercap, socket: socket,
                parentID: parent.map { domainID($0.zoneID) }, containedInID: containedIn, duplicateOfID: duplicateOf,
                path: path, quantity: .counter, counterModulus: zone.modulus, microjoulesPerCount: 1)
            let energyNow = Result { try reader.readUnsignedInteger(path) }.mapError { error in
                (error as? SysfsReadError) ?? .ioError(path: path, errno: 0)
            }
            zones.append(Zone(domain: domain, energyNow: energyNow))
        }
        return Discovery(zones: zones, problems: problems)
    }

    /// "intel-rapl:0:1" -> "intel-rapl:0"; nil for a top-level zone.
    static func parentZone(of zoneID: String) -> String? {
        let parts = zoneID.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count > 2 else { return nil }
        return parts.dropLast().joined(separator: ":")
    }

    static func isEnergyZone(_ entry: String) -> Bool {
        (entry.hasPrefix("intel-rapl:") || entry.hasPrefix("intel-rapl-mmio:"))
    }

    /// "package-1" -> 1.
    static func socketNumber(name: String) -> Int? {
        guard name.hasPrefix("package-") else { return nil }
        return Int(name.dropFirst("package-".count))
    }
}
