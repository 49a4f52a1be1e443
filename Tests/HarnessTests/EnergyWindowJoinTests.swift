import Foundation
import Testing
@testable import Harness
import Telemetry

/// The energy join as a pure function of a hand-written trace: one package domain, idle 0-1 s at
/// 2 W, warm-up 1-2 s, measured window 2-4 s with 8 inferences and 20 J, cool-down 4-5 s.
@Suite struct EnergyWindowJoinTests {
    static let package = EnergyDomain(
        id: "powercap/intel-rapl:0", name: "package-0", kind: .package, interface: .powercap, socket: 0, parentID: nil,
        containedInID: nil, duplicateOfID: nil, path: "/sys/class/powercap/intel-rapl:0/energy_uj", quantity: .counter,
        counterModulus: 262_143_328_851, microjoulesPerCount: 1)
    static let second: UInt64 = 1_000_000_000

    func mark(_ phase: Phase, _ index: Int) throws -> PhaseMark {
        let json = "{\"phase\":\"\(phase.rawValue)\",\"timeNanoseconds\":\(UInt64(index) * Self.second),\"sampleIndex\":\(index)}"
        return try JSONDecoder().decode(PhaseMark.self, from: Data(json.utf8))
    }

    func fault(_ kind: SamplerFault.Kind, atSecond second: UInt64) throws -> SamplerFault {
        let json = "{\"domainID\":\"\(Self.package.id)\",\"timeNanoseconds\":\(second * Self.second),"
            + "\"kind\":\"\(kind.rawValue)\",\"detail\":\"simulated\"}"
        return try JSONDecoder().decode(SamplerFault.self, from: Data(json.utf8))
    }

    func run(cumulative: [UInt64], faults: [SamplerFault] = [], powerModel: PowerModel? = nil) throws -> RecordedRun {
        let plan = RunPlan(models: [ModelEntry(id: "m", path: "/m.tflite", precision: "int8")], threads: [1],
                           repetitions: 1, powerModel: powerModel)
        let probe = MachineProbe(reader: SysfsReader(root: "/nonexistent-ssd-energy-root"), windowSeconds: 0,
                                 counterEvents: []).run()
        var record = RunRecord(
            name: "hand", startedAt: "", plan: plan,
            configurations: [RunConfiguration(key: ConfigurationKey(modelID: "m", threads: 1), precision: "int8",
                                              modelPath: "/m.tflite", modelSizeBytes: nil)],
            energy: EnergySetup(domains: [Self.package], unavailableReason: nil, unavailableFix: nil), gaugeNames: [],
            logicalCPUs: 4, probe: probe,
            software: SoftwareVersions(tool: "t", swiftCompiler: "s", operatingSystem: "o", kernelRelease: "k", machine: "m"))
        record.faults = faults
        let marks = UnitMarks(idle: try mark(.idle, 0), warmUp: try mark(.warmUp, 1), measure: try mark(.measure, 2),
                              coolDown: try mark(.coolDown, 4), end: try mark(.end, 5))
        // CPU: idle 0 s busy; window 2 s with 4 s of CPU over 4 logical CPUs -> utilisation 0.5.
        record.units = [UnitRecord(configurationID: "m@1t", repetition: 0, order: 0, marks: marks, warmupInferences: 1,
                                   processCPUNanosecondsAtIdleStart: 0, processCPUNanosecondsAtIdleEnd: 0,
                                   processCPUNanosecondsAtMeasureStart: 1 * Self.second,
                                   processCPUNanosecondsAtMeasureEnd: 5 * Self.second, counters: [],
                                   throttleEventsDuringWindow: nil, coolDownReachedBaseline: nil,
                                   workloadPeakMemoryBytes: nil, processPeakResidentBytes: nil)]
        let samples = cumulative.enumerated().map { index, microjoules in
            RecordedSample(timeNanoseconds: UInt64(index) * Self.second, observations: [.counter(microjoules + 7)],
                           cumulativeMicrojoules: [microjoules], gauges: [])
        }
        let timeline = (0..<8).map { index in
            InferenceTiming(configurationID: "m@1t", repetition: 0, index: index, image: index,
                            startNanoseconds: 2 * Self.second + UInt64(index) * 250_000_000,
                            endNanoseconds: 2 * Self.second + UInt64(index + 1) * 250_000_000)
        }
        return RecordedRun(record: record, samples: samples, timeline: timeline)
    }

    static let trace: [UInt64] = [0, 2_000_000, 2_500_000, 12_500_000, 22_500_000, 23_000_000]

    @Test func windowEnergyBaselineAndAboveIdleByHand() throws {
        let result = RepetitionResult.join(try run(cumulative: Self.trace), unit: try run(cumulative: Self.trace).record.units[0])
        let energy = result.energy
        #expect(energy.source == .measured(interface: .powercap, domainIDs: [Self.package.id]))
        #expect(energy.windowMicrojoules == 20_000_000)
        #expect(energy.joulesPerInference == 2.5)                     // 20 J / 8
        #expect(energy.averageWatts == 10)                            // 20 J / 2 s
        #expect(energy.baselineWatts.value == 2)                      // 2 J / 1 s idle
        #expect(energy.aboveIdleJoules.value == 16)                   // 20 J - 2 W × 2 s
        #expect(energy.aboveIdleJoulesPerInference.value == 2)
        #expect(result.latency.medianMs == 250)
        #expect(result.inferencesPerSecond == 4)
        #expect(result.energyDelayProduct.value == 0.625)             // 2.5 J × 0.25 s
        #expect(result.cpuUtilisation == 0.5)
    }

    @Test func aReadFailureInsideTheRepetitionMakesEnergyUnavailable() throws {
        let recorded = try run(cumulative: Self.trace, faults: [try fault(.vanished, atSecond: 3)])
        let result = RepetitionResult.join(recorded, unit: recorded.record.units[0])
        guard case let .unavailable(reason, _) = result.energy.source else {
            Issue.record("expected unavailable, got \(result.energy.source)")
            return
        }
        #expect(reason.contains("vanished"))
        #expect(result.energy.joulesPerInference == nil)
        #expect(result.energyDelayProduct.value == nil)
        #expect(result.domains[0].joulesPerInference == nil)
        #expect(result.domains[0].fault?.contains("vanished") == true)
    }

    @Test func aStuckCounterAloneStillMeasuresAndFaultsOutsideDoNotCount() throws {
        let recorded = try run(cumulative: Self.trace, faults: [try fault(.stuck, atSecond: 3), try fault(.vanished, atSecond: 5)])
        let result = RepetitionResult.join(recorded, unit: recorded.record.units[0])
        #expect(result.energy.joulesPerInference == 2.5)
    }

    @Test func aCounterThatNeverAdvancesIsNotZeroJoules() throws {
        let recorded = try run(cumulative: [5, 5, 5, 5, 5, 5])
        let result = RepetitionResult.join(recorded, unit: recorded.record.units[0])
        guard case let .unavailable(reason, _) = result.energy.source else {
            Issue.record("expected unavailable, got \(result.energy.source)")
            return
        }
        #expect(reason.contains("not advancing"))
        #expect(result.energy.joulesPerInference == nil)
    }

    @Test func aPowerModelEstimatesOnlyWhenMeasurementFailsAndSaysSo() throws {
        let model = try PowerModel.parse(argument: "tdp=40")
        let measured = try run(cumulative: Self.trace, powerModel: model)
        #expect(RepetitionResult.join(measured, unit: measured.record.units[0]).energy.source.isMeasured)

        let flat = try run(cumulative: [5, 5, 5, 5, 5, 5], powerModel: model)
        let energy = RepetitionResult.join(flat, unit: flat.record.units[0]).energy
        guard case let .estimated(label) = energy.source else {
            Issue.record("expected an estimate, got \(energy.source)")
            return
        }
        #expect(label.contains("TDP 40.0 W"))
        #expect(energy.measurementUnavailableReason?.contains("not advancing") == true)
        #expect(energy.windowJoules == 40)                            // 40 W × 0.5 × 2 s
        #expect(energy.baselineWatts.value == 0)                      // no CPU time while idle
        #expect(energy.windowMicrojoules == nil)
    }
}

extension EnergyProvenance {
    var isMeasured: Bool {
        if case .measured = self { return true }
        return false
    }
}
