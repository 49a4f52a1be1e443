import Foundation

/// RAPL energy through the perf `power` PMU: /sys/bus/event_source/devices/power/{type,cpumask,
/// events/energy-*{,.scale,.unit}}. Works where `energy_uj` is root-only but perf is allowed
/// (perf_event_paranoid <= 0 or CAP_PERFMON). Counted system-wide on one CPU per package (`cpumask`).
public enum PerfPowerPMU {
    public static let deviceDirectory = "/sys/bus/event_source/devices/power"

    public struct Event: Hashable, Sendable, Codable {
        public let name: String
        /// The `config` value from "event=0x..".
        public let config: UInt64
        /// Joules per count (from `<event>.scale`).
        public let scale: Double
        public let unit: String
    }

    public struct Discovery: Sendable {
        public let pmuType: UInt32
        /// One CPU per package, from `cpumask`.
        public let cpus: [Int32]
        public let events: [Event]
        public let problems: [SysfsReadError]

        /// One domain per event per package CPU.
        public var domains: [EnergyDomain] {
            var result: [EnergyDomain] = []
            for (socket, cpu) in cpus.enumerated() {
                let psysID = events.first { EnergyDomainKind(raplName: $0.name) == .psys }
                    .map { PerfPowerPMU.domainID(event: $0.name, cpu: cpus.first ?? cpu) }
                let packageID = events.first { EnergyDomainKind(raplName: $0.name) == .package }
                    .map { PerfPowerPMU.domainID(event: $0.name, cpu: cpu) }
                for event in events {
                    let kind = EnergyDomainKind(raplName: event.name)
                    // psys is platform-wide: count it once, on the first package's CPU.
                    if kind == .psys && socket > 0 { continue }
                    let container: String?
                    switch kind {
                    case .core, .uncore: container = packageID
                    case .package, .dram: container = psysID
                    default: container = nil
                    }
                    result.append(EnergyDomain(
                        id: PerfPowerPMU.domainID(event: event.name, cpu: cpu), name: event.name, kind: kind,
                        interface: .perfPowerPMU, socket: kind == .psys ? nil : socket, parentID: nil,
                        containedInID: container, duplicateOfID: nil,
                        path: "\(PerfPowerPMU.deviceDirectory)/events/\(event.name) (cpu \(cpu))",
                        quantity: .counter, counterModulus: nil, microjoulesPerCount: event.scale * 1e6))
                }
            }
            return result
        }
    }

    static func domainID(event: String, cpu: Int32) -> String { "perf-power/\(event)@cpu\(cpu)" }

    /// nil when there is no power PMU at all.
    public static func discover(_ reader: any SysfsReading) -> Discovery? {
        guard reader.isDirectory(deviceDirectory) else { return nil }
        var problems: [SysfsReadError] = []
        var pmuType: UInt32 = 0
        do {
            pmuType = UInt32(truncatingIfNeeded: try reader.readUnsignedInteger("\(deviceDirectory)/type"))
        } catch let error as SysfsReadError {
            problems.append(error)
        } catch {}
        var cpus: [Int32] = []
        do {
            let maskPath = "\(deviceDirectory)/cpumask"
            let text = try reader.readText(maskPath)
            guard let parsed = parseCPUList(text) else {
                throw SysfsReadError.malformed(path: maskPath, content: text, expected: "a CPU list like 0,28")
            }
            cpus = parsed.map(Int32.init)
        } catch let error as SysfsReadError {
            problems.append(error)
        } catch {}
        var events: [Event] = []
        let eventsDirectory = "\(deviceDirectory)/events"
        for entry in reader.listDirectory(eventsDirectory) ?? [] where !entry.contains(".") {
            do {
                let specPath = "\(eventsDirectory)/\(entry)"
                let spec = try reader.readText(specPath)
                guard let config = parseEventConfig(spec) else {
                    throw SysfsReadError.malformed(path: specPath, content: spec, expected: "event=0x..")
                }
                let scale = try reader.readDouble("\(specPath).scale")
                let unit = try reader.readText("\(specPath).unit").trimmingWhitespace()
                events.append(Event(name: entry, config: config, scale: scale, unit: unit))
            } catch let error as SysfsReadError {
                problems.append(error)
            } catch {}
        }
        return Discovery(pmuType: pmuType, cpus: cpus, events: events, problems: problems)
    }

    /// "event=0x02" (possibly with other terms, comma separated) -> 2.
    static func parseEventConfig(_ text: String) -> UInt64? {
        for term in text.trimmingWhitespace().split(separator: ",") {
            let pair = term.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0] == "event" else { continue }
            let value = pair[1]
            if value.hasPrefix("0x") { return UInt64(value.dropFirst(2), radix: 16) }
            return UInt64(value)
        }
        return nil
    }
}

/// "0-3,8,10-11" -> [0,1,2,3,8,10,11]; nil when malformed.
public func parseCPUList(_ text: String) -> [Int]? {
    var cpus: [Int] = []
    let trimmed = text.trimmingWhitespace()
    if trimmed.isEmpty { return [] }
    for part in trimmed.split(separator: ",") {
        let bounds = part.split(separator: "-")
        if bounds.count == 1, let cpu = Int(bounds[0]) {
            cpus.append(cpu)
        } else if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low <= high {
            cpus.append(contentsOf: low...high)
        } else {
            return nil
        }
    }
    return cpus
}

/// Reads the power PMU's energy events, opened system-wide on one CPU per package.
public final class PerfPowerEnergySource: EnergySource, @unchecked Sendable {
    public let domains: [EnergyDomain]
    private let files: [PerfEventFile]

    /// Opens every domain; throws the first failure (the probe reports per-event failures itself).
    public init(discovery: PerfPowerPMU.Discovery) throws {
        var domains: [EnergyDomain] = []
        var files: [PerfEventFile] = []
        for domain in discovery.domains {
            guard let event = discovery.events.first(where: { $0.name == domain.name }),
                  let cpu = PerfPowerEnergySource.cpu(of: domain) else { continue }
            let attributes = PerfEventAttributes(type: discovery.pmuType, config: event.config)
            files.append(try PerfEventFile(attributes, pid: -1, cpu: cpu, inherit: false, withTimes: false))
            domains.append(domain)
        }
        self.domains = domains
        self.files = files
    }

    static func cpu(of domain: EnergyDomain) -> Int32? {
        guard let at = domain.id.range(of: "@cpu", options: .backwards) else { return nil }
        return Int32(domain.id[at.upperBound...])
    }

    public func read() -> [Result<EnergyObservation, SysfsReadError>] {
        files.map { file in file.read().map { .counter($0.rawValue) } }
    }
}
