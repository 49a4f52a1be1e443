import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Harness
import Telemetry

/// The whole protocol over a simulated machine: nothing sleeps, every expected energy is worked out
/// by hand from the simulated power (psys 5 W idle / 20 W busy, package 3 / 15 W, core 1 / 10 W).
@Suite struct TradeoffRunTests {
    static let int8 = ModelEntry(id: "ssd_int8", path: "/models/ssd_int8.tflite", precision: "int8")
    static let fp32 = ModelEntry(id: "ssd_fp32", path: "/models/ssd_fp32.tflite", precision: "fp32")

    func runOneConfiguration(machine: SimulatedMachine, powerModel: PowerModel? = nil,
                             output: URL) throws -> (RecordedRun, [ConfigurationResult], PlaceholderWorkload) {
        let plan = RunPlan(models: [Self.int8], threads: [1], repetitions: 1, seed: 7, settings: shortSettings(),
                           powerModel: powerModel)
        let workload = PlaceholderWorkload(configuration(Self.int8, threads: 1), machine: machine)
        let runner = try TradeoffRunner(record: machine.record(plan: plan, configurations: [workload.configuration]),
                                        workloads: [workload], accuracy: FixedAccuracy(["ssd_int8": 0.25]),
                                        environment: machine.environment(), output: output)
        let run = try runner.run()
        return (run, ConfigurationResult.join(run), workload)
    }

    @Test func perInferenceEnergyBaselineAndNestingByHand() throws {
        let machine = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: true)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let (run, results, workload) = try runOneConfiguration(machine: machine, output: output)
        let result = try #require(results.first)
        let repetition = try #require(result.repetitions.first)

        // 2 warm-up + 10 measured inferences (0.1 s / 10 ms; more than the minimum of 5).
        #expect(workload.images == [0, 1] + (0..<10).map { $0 % 4 })
        #expect(repetition.inferences == 10)
        #expect(repetition.windowSeconds == 0.1)
        #expect(repetition.idleSeconds == 0.3)

        // Only psys is summed: package and core are inside it.
        #expect(run.record.energy.totalDomains.map(\.id) == ["powercap/intel-rapl:1"])
        let window = repetition.energy
        #expect(window.source == .measured(interface: .powercap, domainIDs: ["powercap/intel-rapl:1"]))
        #expect(window.windowMicrojoules == 10 * 200_000)            // 20 W × 10 ms = 200,000 µJ each
        let perInference = try #require(window.joulesPerInference)
        #expect(perInference == 0.2)
        #expect(perInference * Double(repetition.inferences) == Double(window.windowMicrojoules!) / 1e6)
        #expect(window.idleJoules == 1.5)                             // 5 W × 0.3 s
        #expect(window.baselineWatts.value == 5)
        #expect(abs(window.aboveIdleJoules.value! - 1.5) < 1e-12)     // 2.0 J - 5 W × 0.1 s
        #expect(abs(window.aboveIdleJoulesPerInference.value! - 0.15) < 1e-12)
        #expect(window.averageWatts == 20)

        // Per domain: each has its own figure and says where it nests; never added to psys.
        let byID = Dictionary(uniqueKeysWithValues: repetition.domains.map { ($0.domainID, $0) })
        #expect(byID["powercap/intel-rapl:0"]?.windowMicrojoules == 10 * 150_000)
        #expect(byID["powercap/intel-rapl:0"]?.containedInID == "powercap/intel-rapl:1")
        #expect(byID["powercap/intel-rapl:0:0"]?.windowMicrojoules == 10 * 100_000)
        #expect(byID["powercap/intel-rapl:0:0"]?.containedInID == "powercap/intel-rapl:0")
        #expect(byID["powercap/intel-rapl:0:0"]?.idleMicrojoules == 300_000)
        // Package above idle: (1.5 J - 3 W × 0.1 s) / 10 = 0.12 J.
        #expect(abs(byID["powercap/intel-rapl:0"]!.aboveIdleJoulesPerInference! - 0.12) < 1e-12)
        #expect(repetition.domains.filter(\.inTotal).map(\.domainID) == ["powercap/intel-rapl:1"])
        #expect(result.joulesPerInference?.mean == 0.2)

        // Latency: every inference took exactly 10 ms on the manual clock; EDP = 0.2 J × 0.01 s.
        #expect(repetition.latency.medianMs == 10 && repetition.latency.p99Ms == 10)
        #expect(repetition.inferencesPerSecond == 100)
        #expect(abs(repetition.energyDelayProduct.value! - 0.002) < 1e-15)
        // Counters per inference; a missing FLOP event stays unavailable with its reason.
        #expect(repetition.counters.instructionsPerInference.value == 300_000)
        #expect(repetition.counters.instructionsPerCycle.value == 1.5)
        #expect(repetition.counters.floatingPointOperationsPerInference.value == nil)
        #expect(repetition.counters.floatingPointOperationsPerInference.unavailableReason?.contains("libpfm4") == true)
        #expect(repetition.counters.cacheMissesPerInference.value == nil)
        // Temperature: 40 °C + 0.5 per inference; window from 41 (after warm-up) to 46.
        let temperature = try #require(repetition.gauges.first { $0.kind == .temperatureCelsius })
        #expect(temperature.minimum == 41 && temperature.maximum == 46)
        // Cool-down: 1 °C per 250 ms back to within 2 °C of the idle 40 °C.
        #expect(repetition.coolDownReachedBaseline == true)
        let marks = run.record.units[0].marks
        #expect(marks.end.timeNanoseconds - marks.coolDown.timeNanoseconds == 1_000_000_000)
        #expect(result.accuracy?.result?.meanAveragePrecision == 0.25)
        #expect(result.peakMemoryBytes == 1_234_567)
    }

    @Test func phasesCutTheTraceAtTheirMarks() throws {
        let machine = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: false)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let (run, _, _) = try runOneConfiguration(machine: machine, output: output)
        let marks = run.record.units[0].marks
        #expect(marks.all.map(\.phase) == [.idle, .warmUp, .measure, .coolDown, .end])
        let psys = try #require(run.record.energy.domains.firstIndex { $0.name == "psys" })
        func energy(_ from: PhaseMark, _ to: PhaseMark) -> UInt64 {
            run.samples[to.sampleIndex].cumulativeMicrojoules[psys] - run.samples[from.sampleIndex].cumulativeMicrojoules[psys]
        }
        #expect(energy(marks.idle, marks.warmUp) == 1_500_000)     // idle only
        #expect(energy(marks.warmUp, marks.measure) == 400_000)    // 2 warm-up inferences
        #expect(energy(marks.measure, marks.coolDown) == 2_000_000)
        #expect(energy(marks.coolDown, marks.end) == 0)            // no temperature source: no wait

        // The raw CSV labels every sample with the phase it falls in, and reads back bit for bit.
        let csv = try String(contentsOf: output.appendingPathComponent("raw/energy-powercap.csv"), encoding: .utf8)
        let rows = try CSVTable.parse(csv, file: "energy-powercap.csv")
        #expect(rows[0].prefix(4) == ["time_ns", "phase", "configuration", "repetition"])
        #expect(rows[1 + marks.measure.sampleIndex][1] == "measure")
        #expect(rows[marks.measure.sampleIndex][1] == "warm-up")
        #expect(rows[1 + marks.idle.sampleIndex][2] == "ssd_int8@1t")
        let reread = try RawRunFiles.read(runDirectory: output)
        #expect(reread.samples == run.samples)
        #expect(reread.timeline == run.timeline)
    }

    @Test func estimatesAreLabelledAsEstimates() throws {
        let machine = try SimulatedMachine(zones: [], thermalZone: false)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let model = try PowerModel.parse(argument: "idle=2,busy=10")
        let (_, results, _) = try runOneConfiguration(machine: machine, powerModel: model, output: output)
        let window = try #require(results.first?.repetitions.first?.energy)
        guard case let .estimated(label) = window.source else {
            Issue.record("expected an estimate, got \(window.source)")
            return
        }
        #expect(label.contains("idle 2.0 W / busy 10.0 W"))
        #expect(window.measurementUnavailableReason?.contains("no RAPL powercap zones") == true)
        // Busy one CPU of two in the window: utilisation 0.5 -> 6 W × 0.1 s; idle at 2 W.
        #expect(abs(window.windowJoules! - 0.6) < 1e-12)
        #expect(window.baselineWatts.value == 2)
        #expect(abs(window.aboveIdleJoules.value! - 0.4) < 1e-12)
        #expect(window.windowMicrojoules == nil)

        let csv = try String(contentsOf: output.appendingPathComponent("tradeoff.csv"), encoding: .utf8)
        #expect(csv.contains("ESTIMATED (not measured): power model idle 2.0 W / busy 10.0 W"))
        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("**ESTIMATES**"))
        #expect(!report.contains("measured: "))
    }

    /// Runs one configuration on `machine`, expects no energy figure, and hands `check` the result, the
    /// reason given for the missing energy and the output folder (removed afterwards).
    func withUnavailableEnergyRun(machine: SimulatedMachine,
                                  _ check: (ConfigurationResult, String, URL) throws -> Void) throws {
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let (_, results, _) = try runOneConfiguration(machine: machine, output: output)
        let result = try #require(results.first)
        #expect(result.joulesPerInference == nil)
        guard case let .unavailable(reason, _) = result.energySource else {
            Issue.record("expected unavailable, got \(result.energySource)")
            return
        }
        try check(result, reason, output)
    }

    @Test func unavailableEnergyIsNeverWrittenAsZero() throws {
        try withUnavailableEnergyRun(machine: try SimulatedMachine(zones: [], thermalZone: false)) { _, reason, output in
            #expect(reason.contains("no RAPL powercap zones"))

            let rows = try CSVTable.parse(try String(contentsOf: output.appendingPathComponent("tradeoff.csv"), encoding: .utf8),
                                          file: "tradeoff.csv")
            let row = Dictionary(uniqueKeysWithValues: zip(rows[0], rows[1]))
            #expect(row["energy_source"]?.hasPrefix("unavailable: no RAPL powercap zones") == true)
            for column in ["joules_per_inference", "joules_above_idle_per_inference", "average_power_w",
                           "energy_delay_product_js", "flops_per_inference", "llc_read_misses_per_inference"] {
                #expect(row[column] == "", "\(column) should be empty, not \(row[column] ?? "missing")")
            }
            #expect(row["latency_median_ms"] == "10.0")
            #expect(row["coco_AP"] == "0.25")

            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("summary.json")))
                as? [String: Any]
            let configurations = try #require(summary?["configurations"] as? [[String: Any]])
            #expect(configurations[0]["joulesPerInference"] is NSNull)
            let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
            #expect(report.contains("**No energy measurement on this machine**: no RAPL powercap zones"))
            #expect(report.contains("| ssd_int8@1t | int8 | 1 | 0.25 | unavailable | unavailable | unavailable |"))
            // Energy plots become time plots.
            let plots = try FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent("plots").path).sorted()
            #expect(plots == ["latency-over-time.svg", "map-vs-latency.svg"])
        }
    }

    @Test func aCounterThatNeverAdvancesIsNoEnergyFigure() throws {
        // A VM's perf power PMU stub: the file exists and opens, but reads the same value forever.
        let stub = SimulatedMachine.Zone(directory: "intel-rapl:0", name: "package-0", idleWatts: 0, busyWatts: 0)
        try withUnavailableEnergyRun(machine: try SimulatedMachine(zones: [stub], thermalZone: false)) { result, reason, _ in
            #expect(reason.contains("not advancing"))
            for repetition in result.repetitions {
                for domain in repetition.domains {
                    #expect(domain.windowMicrojoules == 0)
                    #expect(domain.joulesPerInference == nil, "a stuck zero must not become 0 J per inference")
                    #expect(domain.aboveIdleJoulesPerInference == nil)
                    #expect(domain.fault?.contains("not advancing") == true)
                }
            }
        }
    }

    @Test func everyFileIsWrittenAndReportReRendersIdenticalBytes() throws {
        let machine = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: true)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let plan = RunPlan(models: [Self.int8, Self.fp32], threads: [1, 2], repetitions: 2, seed: 42,
                           settings: shortSettings())
        let workloads = plan.configurationKeys.map { key in
            PlaceholderWorkload(configuration(key.modelID == "ssd_int8" ? Self.int8 : Self.fp32, threads: key.threads),
                                machine: machine)
        }
        // fp32 is slower (20 ms) and so costs more energy per inference, but is more accurate.
        workloads.filter { $0.configuration.precision == "fp32" }.forEach { $0.inferenceNanoseconds = 20_000_000 }
        let accuracy = FixedAccuracy(["ssd_int8": 0.20, "ssd_fp32": 0.24])
        let runner = try TradeoffRunner(record: machine.record(plan: plan, configurations: workloads.map(\.configuration)),
                                        workloads: workloads, accuracy: accuracy, environment: machine.environment(),
                                        output: output)
        let run = try runner.run()
        #expect(accuracy.calls.count == 2)                         // once per model, not per thread count
        #expect(run.record.complete)
        #expect(run.record.units.map { ScheduledUnit(configurationID: $0.configurationID, repetition: $0.repetition) }
                == plan.schedule())

        let files = ["summary.json", "tradeoff.csv", "report.md", "plots/map-vs-energy.svg", "plots/latency-vs-energy.svg",
                     "plots/map-vs-latency.svg", "plots/power-over-time.svg", "plots/temperature-over-time.svg",
                     "plots/latency-over-time.svg"]
        var before: [String: Data] = [:]
        for file in files {
            before[file] = try Data(contentsOf: output.appendingPathComponent(file))
        }
        for file in files where file.hasSuffix(".svg") {
            _ = try XMLDocument(data: before[file]!)
        }
        let rows = try CSVTable.parse(String(decoding: before["tradeoff.csv"]!, as: UTF8.self), file: "tradeoff.csv")
        #expect(rows.count == 5)
        let summary = try StableJSON.decoder().decode(SummaryDocument.self, from: before["summary.json"]!)
        #expect(summary.progress.complete)
        #expect(summary.paretoFront.costAxis == "joules-per-inference")
        // int8 0.2 J at mAP 0.20; fp32 0.4 J at 0.24: both on the front; equal thread counts tie, first listed wins.
        #expect(summary.paretoFront.configurationIDs == ["ssd_int8@1t", "ssd_fp32@1t"])
        #expect(summary.software.kernelRelease == "6.0-test")
        #expect(summary.software.kernels == "avx2-fma")
        #expect(String(decoding: before["report.md"]!, as: UTF8.self).contains("- Inference kernels: avx2-fma"))
        #expect(summary.machine.sysfsRoot == machine.root.path)

        // Delete the derived files and re-render from raw: same bytes.
        for file in files { try FileManager.default.removeItem(at: output.appendingPathComponent(file)) }
        let written = try ReportRenderer.render(runDirectory: output)
        #expect(Set(written) == Set(files))
        for file in files {
            #expect(try Data(contentsOf: output.appendingPathComponent(file)) == before[file], "\(file) changed")
        }
    }

    @Test func interruptedRunLeavesAValidPartialRun() throws {
        let machine = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: false)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let plan = RunPlan(models: [Self.int8, Self.fp32], threads: [1], repetitions: 1, seed: 3, settings: shortSettings())
        let stop = StopRequest()
        let workloads = [Self.int8, Self.fp32].map { PlaceholderWorkload(configuration($0, threads: 1), machine: machine) }
        let second = plan.schedule()[1].configurationID
        // Ctrl-C arrives in the middle of the second configuration's measured window.
        let interrupted = workloads.first { $0.configuration.id == second }!
        interrupted.beforeInference = { count in if count == 6 { stop.request("interrupted by SIGINT") } }
        let runner = try TradeoffRunner(record: machine.record(plan: plan, configurations: workloads.map(\.configuration)),
                                        workloads: workloads, accuracy: nil, environment: machine.environment(stop: stop),
                                        output: output)
        let run = try runner.run()
        #expect(!run.record.complete)
        #expect(run.record.units.map(\.configurationID) == [plan.schedule()[0].configurationID])
        #expect(run.timeline.allSatisfy { $0.configurationID != second })

        let reread = try RawRunFiles.read(runDirectory: output)
        #expect(reread.record.units.count == 1)
        let summary = try StableJSON.decoder().decode(
            SummaryDocument.self, from: Data(contentsOf: output.appendingPathComponent("summary.json")))
        #expect(!summary.progress.complete)
        #expect(summary.progress.stopReason == "interrupted by SIGINT")
        #expect(summary.progress.finishedConfigurations == [plan.schedule()[0].configurationID])
        #expect(summary.configurations.map(\.configuration.id) == [plan.schedule()[0].configurationID])
        let json = try String(contentsOf: output.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(json.contains("\"complete\" : false"))
        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("**Partial run** (interrupted by SIGINT): 1 of 2 repetitions finished"))
        #expect(report.contains("unavailable: no accuracy evaluator was given"))
        // No stray temporary files from the atomic writes.
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: output.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func aStopBeforeAnyMeasurementStillLeavesAValidRun() throws {
        let machine = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: true)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let plan = RunPlan(models: [Self.int8], threads: [1], repetitions: 2, seed: 1, settings: shortSettings())
        let stop = StopRequest()
        stop.request("interrupted by SIGTERM")
        let workload = PlaceholderWorkload(configuration(Self.int8, threads: 1), machine: machine)
        let runner = try TradeoffRunner(record: machine.record(plan: plan, configurations: [workload.configuration]),
                                        workloads: [workload], accuracy: FixedAccuracy(["ssd_int8": 0.2]),
                                        environment: machine.environment(stop: stop), output: output)
        let run = try runner.run()
        #expect(!run.record.complete && run.record.units.isEmpty && workload.images.isEmpty)
        let summary = try StableJSON.decoder().decode(
            SummaryDocument.self, from: Data(contentsOf: output.appendingPathComponent("summary.json")))
        #expect(summary.progress.finishedConfigurations.isEmpty)
        #expect(summary.configurations.isEmpty)
        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("**Partial run** (interrupted by SIGTERM): 0 of 2 repetitions finished"))
        _ = try ReportRenderer.render(runDirectory: output)
    }
}

/// A run records which instruction set the inference kernels used (it changes their speed several
/// times over); records written before the field existed still decode, without it.
@Test func softwareVersionsRecordTheKernelsInstructionSet() throws {
    let current = SoftwareVersions.current()
    #expect(["avx512 + VNNI", "avx512", "avx2-fma", "portable"].contains(current.kernels ?? ""))
    let old = #"{"tool":"0.1.0","swiftCompiler":"Swift 6.3.1","operatingSystem":"Linux","kernelRelease":"6","machine":"x86_64"}"#
    let decoded = try JSONDecoder().decode(SoftwareVersions.self, from: Data(old.utf8))
    #expect(decoded.kernels == nil)
}
