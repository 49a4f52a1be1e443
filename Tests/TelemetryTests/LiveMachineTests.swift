import Foundation
import Testing
@testable import Telemetry

/// libsensors and the probe on the machine the tests run on.
@Suite struct LiveMachineTests {
    @Test func libsensorsSeesTheSameChipsAsSysfs() throws {
        let chips = try LibSensors.chips()
        // Cross-check with the hwmon directories read directly (zero on this VM is a valid answer).
        let sysfsNames = HwmonSysfs.chipDirectories(SysfsReader()).map { HwmonSysfs.chipName($0, SysfsReader()) }
        #expect(chips.count == sysfsNames.count)
        for chip in chips {
            #expect(sysfsNames.contains { chip.name.hasPrefix($0.replacingOccurrences(of: "-", with: "_")) || chip.name.hasPrefix($0) })
        }
    }

    @Test func liveProbeNamesEverySourceAndWhyUnavailable() throws {
        let report = MachineProbe(windowSeconds: 0.2).run()
        #expect(report.live)
        #expect(report.machine.cpuModel != nil && (report.machine.logicalCPUs ?? 0) > 0)
        let sections: [(String, ProbeReport.Status)] = [
            ("powercap", report.energy.powercap.status), ("perf power", report.energy.perfPowerPMU.status),
            ("hwmon", report.energy.hwmon.status), ("sensors", report.sensors.status),
            ("thermal", report.thermal.status), ("cpufreq", report.frequency.status),
            ("throttling", report.throttling.status),
        ]
        for (name, status) in sections where status.state != .available {
            #expect(status.reason?.isEmpty == false, "\(name) has no reason")
            #expect(status.fix?.isEmpty == false, "\(name) has no fix")
        }
        for counter in report.counters.events where counter.status.state != .available {
            #expect(counter.status.reason?.isEmpty == false && counter.status.fix?.isEmpty == false, "\(counter.event)")
            #expect(counter.value == nil, "\(counter.event) unavailable but has a value")
        }
        #expect(report.counters.events.first { $0.event == "perf::PERF_COUNT_SW_TASK_CLOCK" }?.status.state == .available)

        // This project's VM: a power PMU with energy-psys that opens but never advances must be
        // reported as such, never as a 0 J measurement.
        for domain in report.energy.perfPowerPMU.domains where report.machine.virtualisation.isVirtualised {
            if domain.firstReading != nil && domain.firstReading == domain.secondReading {
                #expect(domain.status.state == .presentNotAdvancing)
                #expect(domain.status.reason?.contains("not advancing") == true)
                #expect(!report.energy.nonOverlappingDomainIDs.contains(domain.domain.id))
            }
        }
        let text = ProbeTextRenderer.render(report)
        for heading in ["RAPL powercap", "perf power PMU", "hwmon energy", "Counters", "Sensors", "Thermal zones",
                        "CPU frequency", "Throttling"] {
            #expect(text.contains(heading))
        }
    }

    @Test func probeOfTheIntelTreeListsEveryDomainWithItsRange() throws {
        let report = MachineProbe(reader: try probeTree("intel-xeon-2s-server")).run()
        #expect(!report.live)
        #expect(report.energy.powercap.domains.count == 10)
        for item in report.energy.powercap.domains {
            #expect(item.maxEnergyRangeMicrojoules == (item.domain.kind == .dram ? 65_712_999_613 : 262_143_328_850))
            #expect(item.status.state == .notChecked)
        }
        #expect(report.energy.perfPowerPMU.events.map(\.event) == ["energy-cores", "energy-pkg", "energy-psys", "energy-ram"])
        #expect(report.energy.nonOverlappingDomainIDs == ["powercap/intel-rapl:2"])
        let text = ProbeTextRenderer.render(report)
        for item in report.energy.powercap.domains {
            #expect(text.contains("\(item.domain.id) \"\(item.domain.name)\""))
        }
        #expect(text.contains("max_energy_range_uj 65712999613"))

        // --json: one object whose keys do not depend on what is missing.
        let json = try report.jsonString()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["sysfsRoot", "live", "probeWindowSeconds", "machine", "energy", "counters",
                                     "sensors", "thermal", "frequency", "throttling"])
        let piJSON = try MachineProbe(reader: try probeTree("raspberry-pi-4")).run().jsonString()
        let pi = try #require(try JSONSerialization.jsonObject(with: Data(piJSON.utf8)) as? [String: Any])
        let energyKeys = { (o: [String: Any]) in Set(((o["energy"] as? [String: Any])?["perfPowerPMU"] as? [String: Any] ?? [:]).keys) }
        #expect(energyKeys(pi) == energyKeys(object))
    }
}
