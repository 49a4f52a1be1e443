import Testing
@testable import Telemetry

@Suite struct CapturedTreeSensorTests {
    @Test func intelCoretempThrottleCPUFreqAndCPUInfo() throws {
        let reader = try probeTree("intel-xeon-2s-server")
        let chips = HwmonSysfs.chips(reader)
        #expect(chips.map(\.name) == ["coretemp", "coretemp"])
        let package1 = try #require(chips[1].features.first { $0.label == "Package id 1" })
        #expect(package1.value == 50.0 && package1.unit == "°C")

        let throttle = ThrottleSignals.intelCounts(reader)
        #expect(throttle.map(\.cpu) == ["cpu0", "cpu1", "cpu20", "cpu21"])
        #expect(throttle[0].counts["package_power_limit_count"] == 12)
        #expect(throttle[2].counts["package_throttle_count"] == 0)

        let cpufreq = CPUFreq.discover(reader)
        #expect(cpufreq.count == 4)
        #expect(cpufreq[0].currentKHz == 2_500_000 && cpufreq[0].maximumKHz == 3_900_000)
        #expect(cpufreq[0].governor == "performance")

        let info = try #require(CPUInfo.read(reader))
        #expect(info.model == "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz" && info.logicalCPUs == 40)
        #expect(!VirtualisationHint.detect(reader, cpuInfo: info).isVirtualised)
    }

    @Test func raspberryPiThermalZoneFallbackAndArmCPUInfo() throws {
        for (tree, model, maxKHz) in [("raspberry-pi-4", "Raspberry Pi 4 Model B Rev 1.4", UInt64(1_500_000)),
                                      ("raspberry-pi-5", "Raspberry Pi 5 Model B Rev 1.0", UInt64(2_400_000))] {
            let reader = try probeTree(tree)
            let zones = ThermalZones.discover(reader)
            #expect(zones.count == 1)
            #expect(zones.first?.type == "cpu-thermal" && zones.first?.celsius == 48.686)
            #expect(CPUFreq.discover(reader).map(\.maximumKHz) == Array(repeating: maxKHz, count: 4))
            let info = try #require(CPUInfo.read(reader))
            #expect(info.model == model && info.logicalCPUs == 4)
            #expect(HwmonSysfs.chips(reader).map(\.name).contains("rpi_volt"))
            #expect(PowercapRAPL.discover(reader).zones.isEmpty && HwmonEnergy.discover(reader).isEmpty)
        }
    }

    @Test func capturedVMIsRecognisedAsVirtualised() throws {
        let reader = try probeTree("this-vm-kvm")
        let info = try #require(CPUInfo.read(reader))
        #expect(info.model == "Intel(R) Xeon(R) Processor" && info.logicalCPUs == 2)
        let hint = VirtualisationHint.detect(reader, cpuInfo: info)
        #expect(hint.isVirtualised && hint.evidence.first?.contains("hypervisor") == true)
        #expect(ThermalZones.discover(reader).isEmpty && CPUFreq.discover(reader).isEmpty)
    }
}
