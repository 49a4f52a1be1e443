/// The energy sources a run samples, chosen from what the machine offers, and the rule that turns
/// sampled domains into one honest `EnergyReading`.
public struct EnergySourceSelection: @unchecked Sendable {
    /// Every openable source (all domains, for the raw trace).
    public let sources: [any EnergySource]
    /// The domains whose sum is the run's energy: one interface, no nested or duplicate domain.
    public let totalDomains: [EnergyDomain]
    /// Why there is no energy source, when `totalDomains` is empty.
    public let unavailable: (reason: String, fix: String)?

    /// Powercap zones whose `energy_uj` can be read, the perf power PMU when it opens (live system
    /// only), and hwmon energy/power sensors.
    public static func discover(_ reader: any SysfsReading = SysfsReader()) -> EnergySourceSelection {
        var sources: [any EnergySource] = []
        var reasons: [(String, String)] = []

        let powercap = PowercapRAPL.discover(reader)
        let readable = powercap.zones.filter { (try? $0.energyNow.get()) != nil }.map(\.domain)
        if !readable.isEmpty {
            sources.append(SysfsEnergySource(reader: reader, domains: readable))
        } else if let denied = powercap.zones.first {
            reasons.append(("powercap: \(denied.energyNow)", Remedy.energyUJRootOnly))
        } else {
            reasons.append(("no RAPL powercap zones", Remedy.noPowercap))
        }

        if let perf = PerfPowerPMU.discover(reader), !perf.events.isEmpty {
            if reader.isLiveSystem {
                do {
                    sources.append(try PerfPowerEnergySource(discovery: perf))
                } catch let error as PerfOpenError {
                    reasons.append(("perf power PMU: \(error.reason)", error.fix))
                } catch {
                    reasons.append(("perf power PMU: \(error)", Remedy.noPowerPMU))
                }
            }
        } else {
            reasons.append(("no perf power PMU", Remedy.noPowerPMU))
        }

        let hwmon = HwmonEnergy.discover(reader)
        if !hwmon.isEmpty {
            sources.append(SysfsEnergySource(reader: reader, domains: hwmon))
        } else {
            reasons.append(("no hwmon energy or power sensor", Remedy.noHwmonEnergy))
        }

        let totals = EnergyTopology.preferredNonOverlappingDomains(sources.flatMap(\.domains))
        let unavailable = totals.isEmpty
            ? (reasons.map(\.0).joined(separator: "; "), reasons.map(\.1).joined(separator: " | ")) : nil
        return EnergySourceSelection(sources: sources, totalDomains: totals, unavailable: unavailable)
    }

    public init(sources: [any EnergySource], totalDomains: [EnergyDomain], unavailable: (reason: String, fix: String)?) {
        self.sources = sources
        self.totalDomains = totalDomains
        self.unavailable = unavailable
    }

    /// The run's energy between two marks of `sampler` (which must sample `sources`).
    ///
    /// Unavailable when there is no source, when every total domain stayed at exactly 0 µJ (a counter
    /// that does not advance is not a 0 J measurement: virtualised?), or when a total domain lost
    /// readings or jumped backwards inside the window (energy during a gap is unknown). A stuck
    /// counter alone is not a gap: whatever it counted is still exact.
    public func energy(from sampler: Sampler, start: PhaseMark, end: PhaseMark) -> EnergyReading {
        if let unavailable { return .unavailable(reason: unavailable.reason, fix: unavailable.fix) }
        let perDomain = sampler.microjoules(from: start, to: end)
        let ids = totalDomains.map(\.id)
        let values = ids.map { perDomain[$0] ?? 0 }
        let faulted = sampler.faults().filter { fault in
            ids.contains(fault.domainID) && fault.timeNanoseconds >= start.timeNanoseconds
                && fault.timeNanoseconds <= end.timeNanoseconds && fault.kind != .resumed && fault.kind != .stuck
        }
        if let fault = faulted.first {
            return .unavailable(reason: "\(fault.domainID) \(fault.kind.rawValue) during the window: \(fault.detail)",
                                fix: "rerun; if it repeats, check the source with `ssd-energy probe`")
        }
        if values.allSatisfy({ $0 == 0 }) {
            return .unavailable(reason: "present but not advancing (virtualised?): \(ids.joined(separator: ", ")) "
                                + "stayed constant over the window", fix: Remedy.virtualisedEnergy)
        }
        return .measured(microjoules: values.reduce(0, +), interface: totalDomains[0].interface, domainIDs: ids)
    }
}
