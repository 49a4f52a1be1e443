import Testing
@testable import Telemetry

/// The sampler driven step by step over a simulated powercap tree: the test writes energy_uj, moves
/// a manual clock and calls sampleOnce(); nothing depends on real time. Expected energies are summed
/// by hand from the written values.
@Suite struct SamplerSimulatedTreeTests {
    static let zone = "/sys/class/powercap/intel-rapl:0"
    static let energyPath = "\(zone)/energy_uj"
    static let millisecond: UInt64 = 1_000_000

    /// max_energy_range_uj 999999: the counter counts modulo 1,000,000 µJ.
    func makeTree() throws -> ScratchTree {
        let tree = try ScratchTree()
        try tree.write("\(Self.zone)/name", "package-0")
        try tree.write("\(Self.zone)/max_energy_range_uj", "999999")
        try tree.write(Self.energyPath, "100000")
        return tree
    }

    @Test func wrapsStuckVanishedDeniedUnreadableAndBackwardsAreHandledExactly() throws {
        let tree = try makeTree()
        defer { tree.cleanUp() }
        let reader = FaultInjectingReader(tree.reader)
        let domains = PowercapRAPL.discover(reader).domains
        #expect(domains.map(\.counterModulus) == [1_000_000])
        let clock = ManualClock()
        // 500 W ceiling: at 1 ms per step a real wrap adds at most 500,000 µJ.
        let configuration = Sampler.Configuration(intervalNanoseconds: Self.millisecond,
                                                  stuckAfterNanoseconds: 5 * Self.millisecond,
                                                  maximumPlausiblePowerWatts: 500)
        let sampler = Sampler(energySources: [SysfsEnergySource(reader: reader, domains: domains)],
                              configuration: configuration, clock: clock)
        var step: UInt64 = 0
        func sample(_ value: UInt64?) throws {
            if let value { try tree.write(Self.energyPath, String(value)) }
            clock.set(step * Self.millisecond)
            sampler.sampleOnce()
            step += 1
        }

        // +300,000 µJ per step; wraps at steps 3, 7 and 10.
        for value: UInt64 in [100_000, 400_000, 700_000, 0, 300_000, 600_000, 900_000, 200_000, 500_000, 800_000, 100_000] {
            try sample(value)
        }
        #expect(sampler.totals()[0].microjoules == 3_000_000)
        #expect(sampler.totals()[0].wraps == 3)

        // Stuck: unchanged from step 10 on; flagged once 5 ms have passed (step 15).
        for _ in 11...16 { try sample(nil) }
        try sample(150_000)                          // +50,000 and resumed
        #expect(sampler.totals()[0].microjoules == 3_050_000)

        try tree.remove(Self.energyPath)             // vanished
        try sample(nil)
        try sample(nil)
        try sample(400_000)                          // back: new baseline, the gap is not guessed
        try sample(450_000)                          // +50,000
        #expect(sampler.totals()[0].microjoules == 3_100_000)

        reader.fail(Self.energyPath, with: .permissionDenied(path: Self.energyPath))
        try sample(455_000)
        reader.fail(Self.energyPath, with: nil)
        try sample(460_000)                          // recovered, new baseline
        try sample(470_000)                          // +10,000

        try tree.remove(Self.energyPath)
        try tree.makeDirectory(Self.energyPath)      // not a readable file any more
        try sample(nil)
        try tree.remove(Self.energyPath)
        try sample(480_000)                          // recovered, new baseline
        try sample(490_000)                          // +10,000
        #expect(sampler.totals()[0].microjoules == 3_120_000)

        try sample(489_000)                          // down by 1,000: a wrap would mean 999,000 µJ in 1 ms
        try sample(789_000)                          // +300,000
        try sample(89_000)                           // wrap: +300,000
        let total = try #require(sampler.totals().first)
        #expect(total.microjoules == 3_720_000)
        #expect(total.wraps == 4)
        #expect(total.faults.map(\.kind) == [.stuck, .resumed, .vanished, .recovered, .permissionDenied, .recovered,
                                            .unreadable, .recovered, .backwardsJump])
        #expect(total.faults[0].timeNanoseconds == 15 * Self.millisecond)
        #expect(total.faults[2].detail.contains(Self.energyPath))

        let samples = sampler.samples()
        #expect(samples.count == Int(step))
        #expect(samples.last?.cumulativeMicrojoules == [3_720_000])
        #expect(samples[18].observations == [nil])   // the vanished file reads as nothing, not as 0
        #expect(samples.map(\.timeNanoseconds) == (0..<step).map { $0 * Self.millisecond })
    }

    @Test func phaseMarksCutTheTraceExactly() throws {
        let tree = try makeTree()
        defer { tree.cleanUp() }
        let reader = tree.reader
        let clock = ManualClock()
        let sampler = Sampler(energySources: [SysfsEnergySource(reader: reader, domains: PowercapRAPL.discover(reader).domains)],
                              clock: clock)
        sampler.mark(.idle)
        try tree.write(Self.energyPath, "150000")
        clock.set(1 * Self.millisecond)
        let measure = sampler.mark(.measure)
        try tree.write(Self.energyPath, "990000")
        clock.set(2 * Self.millisecond)
        sampler.sampleOnce()
        try tree.write(Self.energyPath, "20000")     // wrap inside the measured phase: +30,000
        clock.set(3 * Self.millisecond)
        let coolDown = sampler.mark(.coolDown)
        try tree.write(Self.energyPath, "25000")
        clock.set(4 * Self.millisecond)
        sampler.mark(.end)
        #expect(sampler.phaseMarks().map(\.phase) == [.idle, .measure, .coolDown, .end])
        #expect(sampler.microjoules(from: measure, to: coolDown) == ["powercap/intel-rapl:0": 870_000])
        #expect(sampler.totals()[0].microjoules == 925_000)
    }

    @Test func powerGaugeIsIntegratedWithTheTrapezoidRule() throws {
        let tree = try ScratchTree()
        defer { tree.cleanUp() }
        try tree.write("/sys/class/hwmon/hwmon0/name", "ina226")
        let power = "/sys/class/hwmon/hwmon0/power1_input"
        let reader = tree.reader
        try tree.write(power, "4000000")
        let domains = HwmonEnergy.discover(reader)
        let clock = ManualClock()
        let sampler = Sampler(energySources: [SysfsEnergySource(reader: reader, domains: domains)], clock: clock)
        sampler.sampleOnce()
        try tree.write(power, "6000000")
        clock.set(1_000_000_000)
        sampler.sampleOnce()
        clock.set(2_000_000_000)
        sampler.sampleOnce()
        // (4 W + 6 W) / 2 × 1 s + 6 W × 1 s = 11 J.
        #expect(sampler.totals()[0].microjoules == 11_000_000)
    }

    @Test func perfScaledCountsConvertToMicrojoules() {
        let domain = EnergyDomain(id: "perf-power/energy-pkg@cpu0", name: "energy-pkg", kind: .package,
                                  interface: .perfPowerPMU, socket: 0, parentID: nil, containedInID: nil,
                                  duplicateOfID: nil, path: "", quantity: .counter, counterModulus: nil,
                                  microjoulesPerCount: 2.3283064365386962890625e-10 * 1e6)
        var accumulator = DomainAccumulator(domain: domain)
        let configuration = Sampler.Configuration()
        _ = accumulator.observe(.success(.counter(1 << 40)), at: 0, configuration: configuration)
        _ = accumulator.observe(.success(.counter((1 << 40) + 3 * (1 << 32))), at: 1_000_000_000,
                                configuration: configuration)
        #expect(accumulator.counts == 3 << 32)
        #expect(accumulator.microjoules == 3_000_000)    // 3 × 2^32 counts of 2^-32 J
        // A 64-bit counter has no wrap: any decrease is a backwards jump.
        let faults = accumulator.observe(.success(.counter(5)), at: 2_000_000_000, configuration: configuration)
        #expect(faults.map(\.kind) == [.backwardsJump])
        #expect(accumulator.microjoules == 3_000_000)
    }

    @Test func backgroundThreadSamplesAndReportsItsOverhead() throws {
        let tree = try makeTree()
        defer { tree.cleanUp() }
        let reader = tree.reader
        let sampler = Sampler(energySources: [SysfsEnergySource(reader: reader, domains: PowercapRAPL.discover(reader).domains)],
                              gaugeSources: [SysfsGaugeSource.standard(reader)],
                              configuration: Sampler.Configuration(intervalNanoseconds: 1_000_000))
        sampler.start()
        let mark = sampler.mark(.measure)
        let overhead = try #require(sampler.stop())
        #expect(overhead.samples >= 1)
        // The thread's samples plus the one taken by mark().
        #expect(sampler.samples().count == overhead.samples + 1)
        #expect(mark.sampleIndex < sampler.samples().count)
        #expect(overhead.cpuSecondsPerSecond >= 0)
        #expect(sampler.faults().isEmpty)
    }
}

@Suite struct EnergySelectionTests {
    @Test func selectionReportsMeasuredEnergyFromTheSimulatedTree() throws {
        let tree = try ScratchTree()
        defer { tree.cleanUp() }
        try tree.write("/sys/class/powercap/intel-rapl:0/name", "package-0")
        try tree.write("/sys/class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850")
        try tree.write("/sys/class/powercap/intel-rapl:0/energy_uj", "1000")
        try tree.write("/sys/class/powercap/intel-rapl:0:0/name", "core")
        try tree.write("/sys/class/powercap/intel-rapl:0:0/max_energy_range_uj", "262143328850")
        try tree.write("/sys/class/powercap/intel-rapl:0:0/energy_uj", "500")
        let selection = EnergySourceSelection.discover(tree.reader)
        #expect(selection.totalDomains.map(\.id) == ["powercap/intel-rapl:0"])
        let clock = ManualClock()
        let sampler = Sampler(energySources: selection.sources, clock: clock)
        let start = sampler.mark(.measure)
        clock.set(1_000_000_000)
        let idle = sampler.mark(.coolDown)
        #expect(selection.energy(from: sampler, start: start, end: idle).provenance
                == .unavailable(reason: "present but not advancing (virtualised?): powercap/intel-rapl:0 stayed constant "
                                + "over the window", fix: Remedy.virtualisedEnergy))
        try tree.write("/sys/class/powercap/intel-rapl:0/energy_uj", "2501000")
        try tree.write("/sys/class/powercap/intel-rapl:0:0/energy_uj", "2000500")
        clock.set(2_000_000_000)
        let end = sampler.mark(.end)
        let reading = selection.energy(from: sampler, start: idle, end: end)
        #expect(reading == .measured(microjoules: 2_500_000, interface: .powercap, domainIDs: ["powercap/intel-rapl:0"]))
    }

    @Test func noSourceMeansUnavailableWithReasons() throws {
        let selection = EnergySourceSelection.discover(try probeTree("raspberry-pi-4"))
        #expect(selection.sources.isEmpty && selection.totalDomains.isEmpty)
        let reason = try #require(selection.unavailable?.reason)
        #expect(reason.contains("no RAPL powercap zones") && reason.contains("no perf power PMU"))
    }

    /// The real power PMU of the machine under test: a counter that never advances (this VM's
    /// energy-psys) must come out as stuck and unavailable, never as 0 J; one that advances is counted.
    @Test func livePowerPMUIsNeverReportedAsZeroJoules() throws {
        let reader = SysfsReader()
        guard let discovery = PerfPowerPMU.discover(reader), !discovery.events.isEmpty else { return }
        let source: PerfPowerEnergySource
        do {
            source = try PerfPowerEnergySource(discovery: discovery)
        } catch let error as PerfOpenError {
            #expect(error.errno != 0 && !error.fix.isEmpty)
            return
        }
        let clock = ManualClock()
        let sampler = Sampler(energySources: [source],
                              configuration: Sampler.Configuration(stuckAfterNanoseconds: 2_000_000_000), clock: clock)
        let selection = EnergySourceSelection(sources: [source], totalDomains: EnergyTopology.nonOverlappingDomains(source.domains),
                                              unavailable: nil)
        let start = sampler.mark(.measure)
        exerciseCPUAndMemory()
        clock.set(3_000_000_000)
        let end = sampler.mark(.end)
        let reading = selection.energy(from: sampler, start: start, end: end)
        let advanced = sampler.totals().contains { $0.microjoules > 0 }
        if advanced {
            #expect(reading.isMeasured)
        } else {
            #expect(reading.joules == nil)
            #expect(sampler.faults().contains { $0.kind == .stuck })
        }
    }
}
