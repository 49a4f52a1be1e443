import Foundation
import Testing
@testable import Harness
import Telemetry

/// A clock the test moves by hand.
final class ManualClock: MonotonicClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64 = 1_000_000_000
    func nanoseconds() -> UInt64 { lock.lock(); defer { lock.unlock() }; return now }
    func advance(_ nanoseconds: UInt64) { lock.lock(); now += nanoseconds; lock.unlock() }
}

/// A scratch directory standing for "/": a simulated sysfs tree whose counters the test advances.
/// Power per powercap zone is given in whole watts, so every energy below is an exact integer of µJ
/// computed by hand: W × ns / 1000 = µJ.
final class SimulatedMachine {
    struct Zone {
        let directory: String
        let name: String
        let idleWatts: UInt64
        let busyWatts: UInt64
    }

    let root: URL
    let clock = ManualClock()
    let zones: [Zone]
    private(set) var microjoules: [UInt64]
    /// Temperature of the simulated thermal zone, when there is one.
    private(set) var celsius: Double?
    /// Process CPU time: inference is single-threaded busy time in this simulation.
    private(set) var processCPUNanoseconds: UInt64 = 0
    private(set) var sampler: Sampler!
    var reader: SysfsReader { SysfsReader(root: root.path) }

    /// psys ⊃ package-0 ⊃ core, the nesting of a laptop's RAPL.
    static let nestedZones = [
        Zone(directory: "intel-rapl:1", name: "psys", idleWatts: 5, busyWatts: 20),
        Zone(directory: "intel-rapl:0", name: "package-0", idleWatts: 3, busyWatts: 15),
        Zone(directory: "intel-rapl:0:0", name: "core", idleWatts: 1, busyWatts: 10),
    ]

    init(zones: [Zone], thermalZone: Bool) throws {
        root = scratchBase().appendingPathComponent("ssd-energy-harness-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        self.zones = zones
        microjoules = zones.map { _ in 1_000 }
        for (index, zone) in zones.enumerated() {
            try write("/sys/class/powercap/\(zone.directory)/name", zone.name)
            try write("/sys/class/powercap/\(zone.directory)/max_energy_range_uj", "262143328850")
            try write("/sys/class/powercap/\(zone.directory)/energy_uj", String(microjoules[index]))
        }
        if thermalZone {
            celsius = 40
            try write("/sys/class/thermal/thermal_zone0/type", "x86_pkg_temp")
            try writeTemperature()
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("proc"), withIntermediateDirectories: true)
        let selection = EnergySourceSelection.discover(reader)
        let gauges = SysfsGaugeSource.standard(reader)
        sampler = Sampler(energySources: selection.sources, gaugeSources: gauges.names.isEmpty ? [] : [gauges],
                          clock: clock)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    private var createdDirectories: Set<String> = []

    /// Plain overwrite: the sampler reads these files on the test's own thread, never mid-write.
    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(String(path.dropFirst()))
        let directory = url.deletingLastPathComponent()
        if createdDirectories.insert(directory.path).inserted {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        try (text + "\n").write(to: url, atomically: false, encoding: .utf8)
    }

    private func writeTemperature() throws {
        if let celsius { try write("/sys/class/thermal/thermal_zone0/temp", String(Int(celsius * 1000))) }
    }

    /// Lets `nanoseconds` pass at idle or busy power, then takes one sample (as the sampler thread would).
    func advance(_ nanoseconds: UInt64, busy: Bool, temperatureChange: Double = 0) throws {
        for (index, zone) in zones.enumerated() {
            microjoules[index] += (busy ? zone.busyWatts : zone.idleWatts) * nanoseconds / 1_000
            try write("/sys/class/powercap/\(zone.directory)/energy_uj", String(microjoules[index]))
        }
        if busy { processCPUNanoseconds += nanoseconds }
        if let current = celsius {
            celsius = max(40, current + temperatureChange)
            try writeTemperature()
        }
        clock.advance(nanoseconds)
        sampler.sampleOnce()
    }

    func environment(stop: StopRequest = StopRequest()) -> RunEnvironment {
        RunEnvironment(sampler: sampler, clock: clock, pacer: IdlePacer(machine: self), counters: FixedCounters(),
                       processCPUNanoseconds: { [unowned self] in self.processCPUNanoseconds },
                       throttleEventCount: { nil }, peakResidentBytes: { nil }, stop: stop,
                       progress: SilentProgress(), stopSampling: { nil })
    }

    func record(plan: RunPlan, configurations: [RunConfiguration]) -> RunRecord {
        let selection = EnergySourceSelection.discover(reader)
        return RunRecord(name: "test-run", startedAt: "2026-01-01T00:00:00Z", plan: plan, configurations: configurations,
                         energy: EnergySetup(selection: selection), gaugeNames: sampler.gaugeNames, logicalCPUs: 2,
                         probe: MachineProbe(reader: reader, windowSeconds: 0, counterEvents: []).run(),
                         software: SoftwareVersions(tool: "test", swiftCompiler: "Swift test", operatingSystem: "Linux",
                                                    kernelRelease: "6.0-test", machine: "x86_64", kernels: "avx2-fma"))
    }
}

/// Idle waiting: time passes at idle power and the machine cools by 1 °C per 250 ms.
final class IdlePacer: RunPacer {
    unowned let machine: SimulatedMachine
    init(machine: SimulatedMachine) { self.machine = machine }
    func pause(nanoseconds: UInt64) {
        try! machine.advance(nanoseconds, busy: false, temperatureChange: -Double(nanoseconds) / 250_000_000)
    }
}

/// Counters with chosen totals per window; FLOP events deliberately not available.
final class FixedCounters: WindowCounters {
    func start() {}
    func stop() {}
    func read() -> [CounterRecord] {
        [CounterRecord(event: "instructions", value: 3_000_000, unavailableReason: nil),
         CounterRecord(event: "cycles", value: 2_000_000, unavailableReason: nil),
         CounterRecord(event: "FP_ARITH_INST_RETIRED:SCALAR_SINGLE", value: nil,
                       unavailableReason: "not encodable by libpfm4: event not found")]
    }
}

/// The test's stand-in for a detector: each inference takes 10 ms of busy power and warms the chip
/// by 0.5 °C. Clearly not a detector; the real workload is wired in RunCommand.
final class PlaceholderWorkload: InferenceWorkload {
    let configuration: RunConfiguration
    let machine: SimulatedMachine
    let imageCount: Int
    var inferenceNanoseconds: UInt64 = 10_000_000
    var peakMemoryBytes: Int? { 1_234_567 }
    private(set) var prepared = false
    private(set) var images: [Int] = []
    /// Called before each inference (to request a stop mid-run, for example).
    var beforeInference: ((Int) -> Void)?

    init(_ configuration: RunConfiguration, machine: SimulatedMachine, imageCount: Int = 4) {
        self.configuration = configuration
        self.machine = machine
        self.imageCount = imageCount
    }

    func prepare() throws { prepared = true }

    func infer(imageIndex: Int) throws {
        #expect(prepared)
        beforeInference?(images.count)
        images.append(imageIndex)
        try machine.advance(inferenceNanoseconds, busy: true, temperatureChange: 0.5)
    }
}

/// Accuracy by model id, as if the COCO evaluator had produced it.
final class FixedAccuracy: AccuracyProvider {
    let mapByModel: [String: Double]
    private(set) var calls: [String] = []
    init(_ mapByModel: [String: Double]) { self.mapByModel = mapByModel }
    func accuracy(for configuration: RunConfiguration) throws -> AccuracyResult {
        calls.append(configuration.id)
        guard let map = mapByModel[configuration.modelID] else {
            throw AccuracyError(message: "no detections for \(configuration.modelID)")
        }
        return try AccuracyResult(stats: [map] + (1...11).map { Double($0) / 100 },
                                  annotationFile: "instances_val2017_subset.json", imageCount: 4,
                                  evaluator: "test fixture")
    }
}

func configuration(_ model: ModelEntry, threads: Int) -> RunConfiguration {
    RunConfiguration(key: ConfigurationKey(modelID: model.id, threads: threads), precision: model.precision,
                     modelPath: model.path, modelSizeBytes: 1000, derivation: model.derivation)
}

/// A fresh output directory for one run.
func scratchOutput() -> URL {
    scratchBase().appendingPathComponent("ssd-energy-run-\(UUID().uuidString)")
}

/// Memory-backed /dev/shm where there is one: ext4 flushes to disk when a file is truncated or
/// renamed over, and the simulated counters are rewritten hundreds of times per test.
func scratchBase() -> URL {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue,
       FileManager.default.isWritableFile(atPath: "/dev/shm") {
        return URL(fileURLWithPath: "/dev/shm")
    }
    return FileManager.default.temporaryDirectory
}

/// Short protocol: 0.3 s idle (three 100 ms pauses), 2 warm-up inferences, a window of at least
/// 0.1 s and 5 inferences (so 10 inferences of 10 ms).
func shortSettings() -> ProtocolSettings {
    var settings = ProtocolSettings()
    settings.idleSeconds = 0.3
    settings.warmupInferences = 2
    settings.windowSeconds = 0.1
    settings.minimumInferences = 5
    settings.coolDownMaximumSeconds = 60
    settings.coolDownToleranceCelsius = 2
    return settings
}
