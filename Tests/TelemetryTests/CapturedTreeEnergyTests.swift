import Testing
@testable import Telemetry

/// Energy discovery against the probes/ trees; expected values are what the trees' files say
/// (probes/build-reconstructed-trees.py) or, for the VM, what the kernel exposed when captured.
@Suite struct CapturedTreeEnergyTests {
    static let packageRange: UInt64 = 262_143_328_850
    static let dramRange: UInt64 = 65_712_999_613

    @Test func intelServerPowercapDomainsNamesRangesAndNesting() throws {
        let discovery = PowercapRAPL.discover(try probeTree("intel-xeon-2s-server"))
        #expect(discovery.problems.isEmpty)
        let byID = Dictionary(uniqueKeysWithValues: discovery.domains.map { ($0.id, $0) })
        #expect(Set(byID.keys) == [
            "powercap/intel-rapl:0", "powercap/intel-rapl:0:0", "powercap/intel-rapl:0:1", "powercap/intel-rapl:0:2",
            "powercap/intel-rapl:1", "powercap/intel-rapl:1:0", "powercap/intel-rapl:1:1", "powercap/intel-rapl:1:2",
            "powercap/intel-rapl:2", "powercap/intel-rapl-mmio:0",
        ])
        let package1 = try #require(byID["powercap/intel-rapl:1"])
        #expect(package1.name == "package-1" && package1.kind == .package && package1.socket == 1)
        #expect(package1.maxRangeMicrojoules == Self.packageRange)
        #expect(package1.containedInID == "powercap/intel-rapl:2")

        let core1 = try #require(byID["powercap/intel-rapl:1:0"])
        #expect(core1.kind == .core && core1.socket == 1)
        #expect(core1.parentID == "powercap/intel-rapl:1" && core1.containedInID == "powercap/intel-rapl:1")

        // DRAM is a sysfs child of the package but not part of its energy.
        let dram0 = try #require(byID["powercap/intel-rapl:0:2"])
        #expect(dram0.kind == .dram && dram0.maxRangeMicrojoules == Self.dramRange)
        #expect(dram0.parentID == "powercap/intel-rapl:0" && dram0.containedInID == "powercap/intel-rapl:2")

        let psys = try #require(byID["powercap/intel-rapl:2"])
        #expect(psys.kind == .psys && psys.containedInID == nil && psys.parentID == nil)

        let mmio = try #require(byID["powercap/intel-rapl-mmio:0"])
        #expect(mmio.interface == .powercapMMIO && mmio.duplicateOfID == "powercap/intel-rapl:0")

        let energy = try #require(discovery.zones.first { $0.domain.id == "powercap/intel-rapl:0:1" })
        #expect(try energy.energyNow.get() == 1_204_567_789)
    }

    @Test func nonOverlappingTotalsNeverSumNestedDomains() throws {
        let domains = PowercapRAPL.discover(try probeTree("intel-xeon-2s-server")).domains
        #expect(EnergyTopology.nonOverlappingDomains(domains).map(\.id) == ["powercap/intel-rapl:2"])
        // Without psys: each package plus each DRAM, never core/uncore, never the MMIO duplicate.
        let withoutPsys = domains.filter { $0.kind != .psys }
        #expect(Set(EnergyTopology.nonOverlappingDomains(withoutPsys).map(\.id)) == [
            "powercap/intel-rapl:0", "powercap/intel-rapl:0:2", "powercap/intel-rapl:1", "powercap/intel-rapl:1:2",
        ])
        let package0 = try #require(domains.first { $0.id == "powercap/intel-rapl:0" })
        #expect(Set(EnergyTopology.descendants(of: package0, in: domains).map(\.id))
                == ["powercap/intel-rapl:0:0", "powercap/intel-rapl:0:1"])
    }

    @Test func amdPowercapThroughIntelRaplDriver() throws {
        let domains = PowercapRAPL.discover(try probeTree("amd-epyc-zen3-server")).domains
        #expect(domains.map(\.name) == ["package-0", "core"])
        #expect(domains.map(\.maxRangeMicrojoules) == [65_532_610_987, 65_532_610_987])
        #expect(EnergyTopology.nonOverlappingDomains(domains).map(\.id) == ["powercap/intel-rapl:0"])
    }

    @Test func intelServerPerfPowerPMU() throws {
        let discovery = try #require(PerfPowerPMU.discover(try probeTree("intel-xeon-2s-server")))
        #expect(discovery.problems.isEmpty)
        #expect(discovery.pmuType == 22 && discovery.cpus == [0, 20])
        let events = Dictionary(uniqueKeysWithValues: discovery.events.map { ($0.name, $0) })
        #expect(events["energy-pkg"]?.config == 0x02 && events["energy-ram"]?.config == 0x03)
        #expect(events["energy-pkg"]?.scale == 2.3283064365386962890625e-10)
        #expect(events["energy-ram"]?.scale == 1.52587890625e-05)
        #expect(events.values.allSatisfy { $0.unit == "Joules" })
        let ids = discovery.domains.map(\.id)
        // Per package for pkg/cores/ram; psys once (platform-wide).
        #expect(ids.count == 7)
        #expect(ids.filter { $0.hasPrefix("perf-power/energy-psys") } == ["perf-power/energy-psys@cpu0"])
        #expect(ids.contains("perf-power/energy-pkg@cpu20"))
        let pkg = try #require(discovery.domains.first { $0.id == "perf-power/energy-pkg@cpu20" })
        #expect(pkg.socket == 1 && pkg.microjoulesPerCount == 2.3283064365386962890625e-10 * 1e6)
        #expect(EnergyTopology.nonOverlappingDomains(discovery.domains).map(\.id) == ["perf-power/energy-psys@cpu0"])
    }

    @Test func capturedVMPowerPMUListsEnergyPsys() throws {
        let reader = try probeTree("this-vm-kvm")
        let discovery = try #require(PerfPowerPMU.discover(reader))
        #expect(discovery.pmuType == 9 && discovery.cpus == [0])
        #expect(discovery.events == [PerfPowerPMU.Event(name: "energy-psys", config: 5,
                                                        scale: 2.3283064365386962890625e-10, unit: "Joules")])
        #expect(PowercapRAPL.discover(reader).zones.isEmpty)
        #expect(HwmonEnergy.discover(reader).isEmpty)
    }

    @Test func amdEnergyHwmonCountersWithSocketNesting() throws {
        let domains = HwmonEnergy.discover(try probeTree("amd-epyc-zen2-amd_energy"))
        #expect(domains.count == 5)
        let socket = try #require(domains.first { $0.kind == .package })
        #expect(socket.name == "amd_energy Esocket0" && socket.socket == 0 && socket.interface == .hwmonEnergy)
        #expect(socket.path == "/sys/class/hwmon/hwmon0/energy5_input")
        #expect(domains.filter { $0.kind == .core }.allSatisfy { $0.containedInID == socket.id })
        #expect(EnergyTopology.nonOverlappingDomains(domains) == [socket])
    }

    @Test func ina226PowerGaugeAndUnits() throws {
        let reader = try probeTree("arm-board-ina226")
        let domains = HwmonEnergy.discover(reader)
        #expect(domains.map(\.id) == ["hwmon/hwmon0/power1"])
        #expect(domains.first?.quantity == .powerMicrowatts && domains.first?.interface == .hwmonPower)
        let chip = try #require(HwmonSysfs.chips(reader).first)
        #expect(chip.name == "ina226")
        let values = Dictionary(uniqueKeysWithValues: chip.features.map { ($0.name, $0) })
        // sysfs µW, mA, mV -> libsensors W, A, V.
        #expect(values["power1"]?.value == 4.125 && values["power1"]?.unit == "W")
        #expect(values["curr1"]?.value == 0.812 && values["curr1"]?.unit == "A")
        #expect(values["in1"]?.value == 5.08 && values["in1"]?.unit == "V")
        #expect(values["in0"]?.value == 0.002)
    }

    @Test func preferredTotalsNeverMixInterfaces() throws {
        let reader = try probeTree("amd-epyc-zen3-server")
        let all = PowercapRAPL.discover(reader).domains + (PerfPowerPMU.discover(reader)?.domains ?? [])
        #expect(EnergyTopology.preferredNonOverlappingDomains(all).map(\.id) == ["powercap/intel-rapl:0"])
    }
}
