import Foundation

/// The human-readable form of a probe report: one block per source, and for each unavailable one the
/// reason and the fix.
public enum ProbeTextRenderer {
    public static func render(_ report: ProbeReport) -> String {
        var lines: [String] = []
        func add(_ line: String) { lines.append(line) }
        func status(_ status: ProbeReport.Status, indent: String = "  ") {
            add("\(indent)status: \(status.state.rawValue)")
            if let reason = status.reason { add("\(indent)reason: \(reason)") }
            if let fix = status.fix { add("\(indent)fix: \(fix)") }
        }

        add("sysfs root: \(report.sysfsRoot)\(report.live ? " (live system)" : " (captured tree)")")
        add("")
        add("Machine")
        add("  CPU: \(report.machine.cpuModel ?? "unknown"), \(report.machine.logicalCPUs.map(String.init) ?? "?") logical CPUs"
            + " (from \(report.machine.cpuInfoSource ?? "no cpuinfo"))")
        let hint = report.machine.virtualisation
        add("  virtualised: \(hint.isVirtualised ? "yes" : "no evidence")"
            + (hint.evidence.isEmpty ? "" : " (\(hint.evidence.joined(separator: "; ")))"))

        add("")
        add("Energy: RAPL powercap (/sys/class/powercap)")
        status(report.energy.powercap.status)
        for item in report.energy.powercap.domains { domainLine(item, add) }
        report.energy.powercap.problems.forEach { add("  problem: \($0)") }

        add("")
        add("Energy: perf power PMU (/sys/bus/event_source/devices/power)")
        let perf = report.energy.perfPowerPMU
        status(perf.status)
        if let type = perf.pmuType {
            add("  type \(type), package CPUs \(perf.cpus.map(String.init).joined(separator: ","))")
        }
        for event in perf.events {
            add("  event \(event.event): event=0x\(String(event.config, radix: 16)), scale \(event.scale) \(event.unit)")
        }
        for item in perf.domains { domainLine(item, add) }
        perf.problems.forEach { add("  problem: \($0)") }

        add("")
        add("Energy: hwmon energy/power sensors")
        status(report.energy.hwmon.status)
        for item in report.energy.hwmon.domains { domainLine(item, add) }

        add("")
        add("Energy summary")
        add("  non-overlapping domains to sum: "
            + (report.energy.nonOverlappingDomainIDs.isEmpty ? "none" : report.energy.nonOverlappingDomainIDs.joined(separator: ", ")))
        add("  \(report.energy.fallback)")

        add("")
        add("Counters (libpfm4 -> perf_event_open): \(report.counters.scope)")
        if let paranoid = report.counters.perfEventParanoid { add("  perf_event_paranoid: \(paranoid)") }
        if !report.live { add("  not checked: \(Remedy.capturedTree)") }
        for counter in report.counters.events {
            if counter.status.state == .notChecked {
                add("  \(counter.event): not-checked")
                continue
            }
            var line = "  \(counter.event): \(counter.status.state.rawValue)"
            if let value = counter.value { line += ", \(String(format: "%.0f", value)) over the probe workload" }
            if counter.multiplexed == true { line += " (multiplexed, scaled)" }
            add(line)
            if let reason = counter.status.reason { add("    reason: \(reason)") }
            if let fix = counter.status.fix { add("    fix: \(fix)") }
        }

        add("")
        add("Sensors (\(report.sensors.via))")
        status(report.sensors.status)
        for chip in report.sensors.chips {
            add("  chip \(chip.name)\(chip.path.map { " at \($0)" } ?? "")")
            for feature in chip.features {
                let value = feature.value.map { String(format: "%.3f", $0) } ?? "unreadable"
                add("    \(feature.name) \"\(feature.label)\": \(value) \(feature.unit)")
            }
        }

        add("")
        add("Thermal zones (/sys/class/thermal)")
        status(report.thermal.status)
        for zone in report.thermal.zones {
            add("  \(zone.zone) \(zone.type): \(zone.celsius.map { String(format: "%.1f °C", $0) } ?? (zone.readError ?? "unreadable"))")
        }

        add("")
        add("CPU frequency (cpufreq)")
        status(report.frequency.status)
        for cpu in report.frequency.cpus {
            add("  \(cpu.cpu): \(cpu.currentKHz.map { "\($0) kHz" } ?? "?") (min \(cpu.minimumKHz.map(String.init) ?? "?"), "
                + "max \(cpu.maximumKHz.map(String.init) ?? "?") kHz), governor \(cpu.governor ?? "?")")
        }

        add("")
        add("Throttling")
        status(report.throttling.status)
        for cpu in report.throttling.intelThermalThrottle {
            add("  \(cpu.cpu): " + cpu.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if let bits = report.throttling.raspberryPiThrottled { add("  vcgencmd get_throttled: 0x\(String(bits, radix: 16))") }
        return lines.joined(separator: "\n")
    }

    private static func domainLine(_ item: ProbeReport.EnergyDomainReport, _ add: (String) -> Void) {
        let domain = item.domain
        var line = "  \(domain.id) \"\(domain.name)\" [\(domain.kind.rawValue)"
        if let socket = domain.socket { line += ", socket \(socket)" }
        line += "] \(domain.path)"
        if let range = item.maxEnergyRangeMicrojoules { line += ", max_energy_range_uj \(range)" }
        add(line)
        var nesting: [String] = []
        if let parent = domain.parentID { nesting.append("sysfs parent \(parent)") }
        if let container = domain.containedInID { nesting.append("energy inside \(container)") }
        if let original = domain.duplicateOfID { nesting.append("duplicate of \(original)") }
        if !nesting.isEmpty { add("    " + nesting.joined(separator: "; ")) }
        // The captured-tree caveat is printed once per section, not per domain.
        let reason = item.status.state == .notChecked ? nil : item.status.reason
        add("    \(item.status.state.rawValue)" + (reason.map { ": \($0)" } ?? ""))
        if let fix = item.status.fix { add("    fix: \(fix)") }
    }
}

extension ProbeReport {
    /// The `--json` form: one object, sorted keys so the output is stable.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
