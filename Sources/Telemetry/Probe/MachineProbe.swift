#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Builds the probe report: every source, whether it works here, and if not why and how to fix it.
public struct MachineProbe {
    public var reader: any SysfsReading
    /// How long energy counters get to show they advance (live system only).
    public var windowSeconds: Double
    /// Counter events to try (live system only).
    public var counterEvents: [String]

    public init(reader: any SysfsReading = SysfsReader(), windowSeconds: Double = 0.3,
                counterEvents: [String] = PerfCounterSet.defaultEvents) {
        self.reader = reader
        self.windowSeconds = windowSeconds
        self.counterEvents = counterEvents
    }

    public func run() -> ProbeReport {
        let live = reader.isLiveSystem
        let cpuInfo = CPUInfo.read(reader)
        let machine = ProbeReport.Machine(cpuModel: cpuInfo?.model, logicalCPUs: cpuInfo?.logicalCPUs,
                                          cpuInfoSource: cpuInfo?.source,
                                          virtualisation: VirtualisationHint.detect(reader, cpuInfo: cpuInfo))

        // Energy: read every counter, let the window pass (with the counter workload in it), read again.
        let powercap = PowercapRAPL.discover(reader)
        let hwmonDomains = HwmonEnergy.discover(reader)
        let hwmonSource = SysfsEnergySource(reader: reader, domains: hwmonDomains)
        let perfDiscovery = PerfPowerPMU.discover(reader)
        var perfOpen: [(EnergyDomain, Result<PerfEventFile, PerfOpenError>)] = []
        if live, let perfDiscovery {
            for domain in perfDiscovery.domains {
                guard let event = perfDiscovery.events.first(where: { $0.name == domain.name }),
                      let cpu = PerfPowerEnergySource.cpu(of: domain) else { continue }
                let attributes = PerfEventAttributes(type: perfDiscovery.pmuType, config: event.config)
                perfOpen.append((domain, Result {
                    try PerfEventFile(attributes, pid: -1, cpu: cpu, inherit: false, withTimes: false)
                }.mapError { ($0 as? PerfOpenError) ?? PerfOpenError(errno: 0, reason: "\($0)", fix: "") }))
            }
        }
        let powercapFirst = powercap.zones.map { try? reader.readUnsignedInteger($0.domain.path) }
        let hwmonFirst = hwmonSource.read()
        let perfFirst = perfOpen.map { try? $0.1.get().read().get().rawValue }

        var counters = ProbeReport.Counters(
            scope: "this process, all threads created after opening (pid 0, cpu -1, inherit=1); user space only",
            perfEventParanoid: live ? PerfEventFile.paranoidLevel() : nil, events: [])
        if live {
            let started = SystemMonotonicClock().nanoseconds()
            counters.events = probeCounters()
            let spent = Double(SystemMonotonicClock().nanoseconds() - started) / 1e9
            if spent < windowSeconds { sleepSeconds(windowSeconds - spent) }
        } else {
            counters.events = counterEvents.map {
                ProbeReport.CounterReport(event: $0, fullyQualifiedName: nil,
                                          status: ProbeReport.Status(state: .notChecked, reason: Remedy.capturedTree, fix: nil),
                                          errno: nil, value: nil, multiplexed: nil)
            }
        }

        let powercapSecond = powercap.zones.map { try? reader.readUnsignedInteger($0.domain.path) }
        let hwmonSecond = hwmonSource.read()
        let perfSecond = perfOpen.map { try? $0.1.get().read().get().rawValue }

        var powercapReports: [ProbeReport.EnergyDomainReport] = []
        for (index, zone) in powercap.zones.enumerated() {
            let status: ProbeReport.Status
            switch zone.energyNow {
            case let .failure(error):
                status = ProbeReport.Status(state: .unreadable, reason: "\(error)",
                                            fix: error == .permissionDenied(path: zone.domain.path) ? Remedy.energyUJRootOnly : nil)
            case .success:
                status = advancingStatus(live: live, first: powercapFirst[index], second: powercapSecond[index])
            }
            powercapReports.append(ProbeReport.EnergyDomainReport(
                domain: zone.domain, maxEnergyRangeMicrojoules: zone.domain.maxRangeMicrojoules,
                firstReading: powercapFirst[index], secondReading: powercapSecond[index], status: status))
        }
        let powercapSection = ProbeReport.EnergySource(
            status: sectionStatus(powercapReports, absent: Remedy.noPowercap, absentReason: "no RAPL powercap zones"),
            domains: powercapReports, problems: powercap.problems.map(\.description))

        var hwmonReports: [ProbeReport.EnergyDomainReport] = []
        for (index, domain) in hwmonDomains.enumerated() {
            let first = try? hwmonFirst[index].get()
            let second = try? hwmonSecond[index].get()
            var status: ProbeReport.Status
            if case let .failure(error) = hwmonFirst[index] {
                status = ProbeReport.Status(state: .unreadable, reason: "\(error)", fix: nil)
            } else if domain.quantity == .powerMicrowatts {
                status = live ? .available : ProbeReport.Status(state: .notChecked, reason: Remedy.capturedTree, fix: nil)
            } else {
                status = advancingStatus(live: live, first: first.flatMap(counterValue), second: second.flatMap(counterValue))
            }
            hwmonReports.append(ProbeReport.EnergyDomainReport(
                domain: domain, maxEnergyRangeMicrojoules: nil, firstReading: first.flatMap(counterValue),
                secondReading: second.flatMap(counterValue), status: status))
        }
        let hwmonSection = ProbeReport.EnergySource(
            status: sectionStatus(hwmonReports, absent: Remedy.noHwmonEnergy, absentReason: "no hwmon energyN_input or powerN_input"),
            domains: hwmonReports, problems: [])

        let perfSection = perfPowerSection(perfDiscovery, live: live, opened: perfOpen, first: perfFirst, second: perfSecond)

        // On a captured tree nothing can be checked, so every listed domain is a candidate.
        let usable: Set<ProbeReport.Status.State> = live ? [.available] : [.available, .notChecked]
        let working = (powercapReports + perfSection.domains + hwmonReports).filter { usable.contains($0.status.state) }
        let nonOverlapping = EnergyTopology.preferredNonOverlappingDomains(working.map(\.domain)).map(\.id)
        let fallback = working.isEmpty
            ? "no working energy source: runs measure time with CLOCK_MONOTONIC and report energy as unavailable "
              + "(or as ESTIMATED from a power model you state: idle/busy watts or TDP x utilisation)"
            : live ? "energy measured; CLOCK_MONOTONIC timestamps every sample"
                   : "energy would be read from the domains above (captured tree: not checked on this machine)"

        let energy = ProbeReport.Energy(powercap: powercapSection, perfPowerPMU: perfSection, hwmon: hwmonSection,
                                        nonOverlappingDomainIDs: nonOverlapping, fallback: fallback)

        return ProbeReport(sysfsRoot: reader.root, live: live, probeWindowSeconds: live ? windowSeconds : 0,
                           machine: machine, energy: energy, counters: counters, sensors: sensors(live: live),
                           thermal: thermal(), frequency: frequency(), throttling: throttling(live: live))
    }

    // MARK: pieces

    private func counterValue(_ observation: EnergyObservation) -> UInt64? {
        if case let .counter(value) = observation { return value }
        return nil
    }

    private func advancingStatus(live: Bool, first: UInt64?, second: UInt64?) -> ProbeReport.Status {
        guard live else { return ProbeReport.Status(state: .notChecked, reason: Remedy.capturedTree, fix: nil) }
        guard let first, let second else {
            return ProbeReport.Status(state: .unreadable, reason: "read failed during the probe window", fix: nil)
        }
        if first == second {
            return ProbeReport.Status(state: .presentNotAdvancing,
                                      reason: "present but not advancing (virtualised?): value stayed \(first) "
                                        + "over \(windowSeconds) s", fix: Remedy.virtualisedEnergy)
        }
        return .available
    }

    private func sectionStatus(_ domains: [ProbeReport.EnergyDomainReport], absent fix: String,
                               absentReason: String) -> ProbeReport.Status {
        if domains.isEmpty { return .unavailable(absentReason, fix: fix) }
        if domains.contains(where: { $0.status.state == .available }) { return .available }
        if let notChecked = domains.first(where: { $0.status.state == .notChecked }) { return notChecked.status }
        return domains[0].status
    }

    private func perfPowerSection(_ discovery: PerfPowerPMU.Discovery?, live: Bool,
                                  opened: [(EnergyDomain, Result<PerfEventFile, PerfOpenError>)],
                                  first: [UInt64?], second: [UInt64?]) -> ProbeReport.PerfPowerSource {
        guard let discovery else {
            return ProbeReport.PerfPowerSource(status: .unavailable("no perf power PMU", fix: Remedy.noPowerPMU),
                                               pmuType: nil, cpus: [], events: [], domains: [], problems: [])
        }
        let events = discovery.events.map {
            ProbeReport.PerfPowerEventReport(event: $0.name, config: $0.config, scale: $0.scale, unit: $0.unit)
        }
        var domains: [ProbeReport.EnergyDomainReport] = []
        if live {
            for (index, (domain, file)) in opened.enumerated() {
                let status: ProbeReport.Status
                switch file {
                case let .failure(error):
                    status = ProbeReport.Status(state: .unreadable, reason: error.reason, fix: error.fix)
                case .success:
                    status = advancingStatus(live: true, first: first[index], second: second[index])
                }
                domains.append(ProbeReport.EnergyDomainReport(domain: domain, maxEnergyRangeMicrojoules: nil,
                                                              firstReading: first[index], secondReading: second[index],
                                                              status: status))
            }
        } else {
            domains = discovery.domains.map {
                ProbeReport.EnergyDomainReport(domain: $0, maxEnergyRangeMicrojoules: nil, firstReading: nil, secondReading: nil,
                                               status: ProbeReport.Status(state: .notChecked, reason: Remedy.capturedTree, fix: nil))
            }
        }
        var status = sectionStatus(domains, absent: Remedy.noPowerPMU, absentReason: "the power PMU lists no energy events")
        if discovery.events.isEmpty { status = .unavailable("the power PMU lists no energy events", fix: Remedy.noPowerPMU) }
        return ProbeReport.PerfPowerSource(status: status, pmuType: discovery.pmuType, cpus: discovery.cpus, events: events,
                                           domains: domains, problems: discovery.problems.map(\.description))
    }

    private func probeCounters() -> [ProbeReport.CounterReport] {
        let set = PerfCounterSet(events: counterEvents)
        set.start()
        exerciseCPUAndMemory()
        set.stop()
        return set.read().map { reading in
            var report = ProbeReport.CounterReport(event: reading.event, fullyQualifiedName: nil, status: .available,
                                                   errno: nil, value: reading.value, multiplexed: reading.count?.wasMultiplexed)
            switch reading.availability {
            case let .open(encoding):
                report.fullyQualifiedName = encoding.fullyQualifiedName
                if let reason = reading.unavailableReason {
                    report.status = ProbeReport.Status(state: .unreadable, reason: reason, fix: Remedy.noHardwarePMU)
                }
            case let .notEncodable(message):
                report.status = .unavailable("libpfm4 cannot encode it on this CPU's PMU: \(message)",
                                             fix: "the event does not exist on this PMU; pick one from libpfm4's showevtinfo")
            case let .notOpened(code, reason, fix):
                report.errno = code
                report.status = ProbeReport.Status(state: .unavailable, reason: reason, fix: fix)
            }
            return report
        }
    }

    private func sensors(live: Bool) -> ProbeReport.Sensors {
        if live {
            do {
                let chips = try LibSensors.chips()
                let status: ProbeReport.Status = chips.isEmpty
                    ? .unavailable("libsensors found 0 chips", fix: Remedy.noThermal) : .available
                return ProbeReport.Sensors(via: "libsensors", status: status, chips: chips)
            } catch {
                return ProbeReport.Sensors(via: "libsensors", status: .unavailable("\(error)", fix: "install lm-sensors' "
                                           + "configuration (/etc/sensors3.conf) or check libsensors5"), chips: [])
            }
        }
        let chips = HwmonSysfs.chips(reader)
        return ProbeReport.Sensors(via: "sysfs hwmon files", status: chips.isEmpty
                                   ? .unavailable("no /sys/class/hwmon chips", fix: Remedy.noThermal) : .available,
                                   chips: chips)
    }

    private func thermal() -> ProbeReport.Thermal {
        let zones = ThermalZones.discover(reader)
        return ProbeReport.Thermal(status: zones.isEmpty ? .unavailable("no /sys/class/thermal/thermal_zone*",
                                                                        fix: Remedy.noThermal) : .available,
                                   zones: zones)
    }

    private func frequency() -> ProbeReport.Frequency {
        let cpus = CPUFreq.discover(reader)
        return ProbeReport.Frequency(status: cpus.isEmpty ? .unavailable("no /sys/devices/system/cpu/cpu*/cpufreq",
                                                                         fix: Remedy.noCPUFreq) : .available,
                                     cpus: cpus)
    }

    private func throttling(live: Bool) -> ProbeReport.Throttling {
        let intel = ThrottleSignals.intelCounts(reader)
        let pi = live ? ThrottleSignals.raspberryPiThrottled() : nil
        let status: ProbeReport.Status = (intel.isEmpty && pi == nil)
            ? .unavailable("no thermal_throttle counters and no vcgencmd",
                           fix: "Intel: load the therm_throt support (x86 MCE); Raspberry Pi: install vcgencmd (libraspberrypi-bin)")
            : .available
        return ProbeReport.Throttling(status: status, intelThermalThrottle: intel, raspberryPiThrottled: pi)
    }
}

/// A few milliseconds of arithmetic and fresh pages, so counters that work show non-zero counts.
@inline(never)
func exerciseCPUAndMemory() {
    var buffer = [UInt64](repeating: 1, count: 1 << 18)
    var accumulator: UInt64 = 0
    for round in 0..<8 {
        for index in stride(from: 0, to: buffer.count, by: 7) {
            accumulator = accumulator &* 6364136223846793005 &+ buffer[index] &+ UInt64(round)
            buffer[index] = accumulator
        }
    }
    if accumulator == 42 { print("") }
}

func sleepSeconds(_ seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
}
