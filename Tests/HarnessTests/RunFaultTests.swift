import Foundation
import Testing
@testable import Harness
import Telemetry

/// Faults during a run and resuming an interrupted one, on the simulated machine (nothing sleeps).
@Suite struct RunFaultTests {
    static let int8 = ModelEntry(id: "ssd_int8", path: "/models/ssd_int8.tflite", precision: "int8")
    static let fp32 = ModelEntry(id: "ssd_fp32", path: "/models/ssd_fp32.tflite", precision: "fp32")
    static let plan = RunPlan(models: [int8, fp32], threads: [1], repetitions: 2, seed: 5, settings: shortSettings())

    func workloads(_ machine: SimulatedMachine) -> [PlaceholderWorkload] {
        [Self.int8, Self.fp32].map { PlaceholderWorkload(configuration($0, threads: 1), machine: machine) }
    }

    /// Requests a stop when the run reports that unit `number` (1-based) has started.
    final class StopAtUnit: RunProgress {
        let number: Int
        let stop: StopRequest
        init(_ number: Int, stop: StopRequest) { self.number = number; self.stop = stop }
        func report(_ status: RunStatus) { if status.unitNumber == number { stop.request("interrupted by SIGINT") } }
        func note(_ message: String) {}
    }

    func units(_ record: RunRecord) -> [ScheduledUnit] {
        record.units.map { ScheduledUnit(configurationID: $0.configurationID, repetition: $0.repetition) }
    }

    @Test func resumeRunsOnlyTheUnfinishedRepetitionsAndKeepsAccuracy() throws {
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }

        // Session 1: stopped as the second repetition starts; one repetition finished.
        let first = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: false)
        let stop = StopRequest()
        var environment = first.environment(stop: stop)
        environment.progress = StopAtUnit(2, stop: stop)
        let firstWorkloads = workloads(first)
        let accuracy1 = FixedAccuracy(["ssd_int8": 0.20, "ssd_fp32": 0.24])
        let partial = try TradeoffRunner(
            record: first.record(plan: Self.plan, configurations: firstWorkloads.map(\.configuration)),
            workloads: firstWorkloads, accuracy: accuracy1, environment: environment, output: output).run()
        #expect(!partial.record.complete)
        #expect(units(partial.record) == [Self.plan.schedule()[0]])

        // Session 2: a new process (new sampler, its clock restarted) resumes from the files alone.
        let second = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: false)
        let stored = try RawRunFiles.read(runDirectory: output)
        let secondWorkloads = workloads(second)
        let accuracy2 = FixedAccuracy(["ssd_int8": 0.99, "ssd_fp32": 0.99])
        let resumed = try TradeoffRunner(resuming: stored, workloads: secondWorkloads, accuracy: accuracy2,
                                         environment: second.environment(), output: output).run()
        #expect(resumed.record.complete)
        #expect(accuracy2.calls.isEmpty, "accuracy already computed must be kept, not recomputed")
        // Every planned repetition exactly once, in the stored order; the first one untouched.
        #expect(units(resumed.record) == Self.plan.schedule())
        #expect(Set(units(resumed.record)).count == resumed.record.schedule.count)
        #expect(resumed.record.units[0] == partial.record.units[0])
        // The finished configuration's workload is not even loaded again if all its repetitions were done;
        // the measured counts: session 2 ran 3 windows of 10 inferences (+2 warm-up each).
        let session2Inferences = secondWorkloads.map(\.images.count).reduce(0, +)
        #expect(session2Inferences == 3 * 12)
        #expect(resumed.timeline.count == 4 * 10)

        // The stored run reads back (marks point at the right samples) and joins.
        let reread = try RawRunFiles.read(runDirectory: output)
        #expect(reread.samples.count == partial.samples.count + second.sampler.samples().count)
        let results = ConfigurationResult.join(reread)
        #expect(Set(results.map(\.configuration.id)) == ["ssd_int8@1t", "ssd_fp32@1t"])
        #expect(results.allSatisfy { $0.repetitions.count == 2 })
        #expect(results.flatMap(\.repetitions).allSatisfy { $0.energy.joulesPerInference != nil })
        let map = Dictionary(uniqueKeysWithValues: results.map { ($0.configuration.id, $0.accuracy?.result?.meanAveragePrecision) })
        #expect(map == ["ssd_int8@1t": 0.20, "ssd_fp32@1t": 0.24])

        // The interruption and the resumption are listed with time and source.
        let events = try #require(reread.record.events)
        #expect(events.map(\.kind) == [.interrupted, .resumed])
        #expect(events[0].source == "SIGINT")
        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("## Run events"))
        #expect(report.contains("resumed (resume): 1 of 4 repetitions were finished"))
        #expect(report.contains("Complete: 4 of 4 repetitions"))

        // A complete run is not resumed again.
        #expect(throws: TradeoffRunError.self) {
            _ = try TradeoffRunner(resuming: reread, workloads: workloads(second), accuracy: nil,
                                   environment: second.environment(), output: output)
        }
    }

    @Test func aResultsFolderThatCannotBeCreatedIsAClearError() throws {
        let machine = try SimulatedMachine(zones: [], thermalZone: false)
        // A regular file where a folder should be: fails for root too (permission bits would not).
        let blocker = scratchOutput()
        try Data("not a folder".utf8).write(to: blocker)
        defer { try? FileManager.default.removeItem(at: blocker) }
        let output = blocker.appendingPathComponent("run")
        let workload = PlaceholderWorkload(configuration(Self.int8, threads: 1), machine: machine)
        let plan = RunPlan(models: [Self.int8], threads: [1], repetitions: 1, seed: 1, settings: shortSettings())
        let runner = try TradeoffRunner(record: machine.record(plan: plan, configurations: [workload.configuration]),
                                        workloads: [workload], accuracy: nil, environment: machine.environment(),
                                        output: output)
        let error = try #require(throws: AtomicFileError.self) { try runner.run() }
        #expect(error.file.hasPrefix(output.path))
        #expect(error.description.contains("cannot create folder"))
    }

    @Test func aWriteThatFailsMidRunLeavesTheLastWholeRun() throws {
        let machine = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: false)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let all = workloads(machine)
        let runner = try TradeoffRunner(record: machine.record(plan: Self.plan, configurations: all.map(\.configuration)),
                                        workloads: all, accuracy: nil, environment: machine.environment(), output: output)
        // After the first repetition is written the disk is full: every later write fails.
        var writes = 0
        let realWriter = runner.writeResults
        let recordFile = output.appendingPathComponent("raw/run.json").path
        runner.writeResults = { run, folder in
            writes += 1
            if writes > 1 { throw AtomicFileError(file: recordFile, reason: "No space left on device") }
            try realWriter(run, folder)
        }
        let error = try #require(throws: AtomicFileError.self) { try runner.run() }
        #expect(error.file == output.appendingPathComponent("raw/run.json").path)

        // What is on disk is the last whole write: one finished repetition, readable and joinable.
        let stored = try RawRunFiles.read(runDirectory: output)
        #expect(units(stored.record) == [Self.plan.schedule()[0]])
        #expect(ConfigurationResult.join(stored).count == 1)
        #expect(writes == 3, "the failed write and the final attempt to record the failure")
        // And the run can be resumed from it once the folder is writable again.
        let second = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: false)
        let resumed = try TradeoffRunner(resuming: stored, workloads: workloads(second), accuracy: nil,
                                         environment: second.environment(), output: output).run()
        #expect(resumed.record.complete && resumed.record.units.count == 4)
    }

    @Test func aVanishedEnergyFileIsListedWithTimeAndSource() throws {
        let machine = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: false)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let plan = RunPlan(models: [Self.int8], threads: [1], repetitions: 1, seed: 1, settings: shortSettings())
        let workload = PlaceholderWorkload(configuration(Self.int8, threads: 1), machine: machine)
        let psys = machine.root.appendingPathComponent("sys/class/powercap/intel-rapl:1/energy_uj")
        // Mid-window the file disappears for one sample, then comes back (the next inference rewrites it).
        workload.beforeInference = { count in
            if count == 6 {
                try? FileManager.default.removeItem(at: psys)
                machine.sampler.sampleOnce()
            }
        }
        let run = try TradeoffRunner(record: machine.record(plan: plan, configurations: [workload.configuration]),
                                     workloads: [workload], accuracy: nil, environment: machine.environment(),
                                     output: output).run()
        #expect(run.record.complete)
        let kinds = run.record.faults.filter { $0.domainID == "powercap/intel-rapl:1" }.map(\.kind)
        #expect(kinds == [.vanished, .recovered])

        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("summary.json")))
            as? [String: Any]
        let faults = try #require(summary?["samplerFaults"] as? [[String: Any]])
        #expect(faults.count == 2)
        #expect(faults.allSatisfy { $0["domainID"] as? String == "powercap/intel-rapl:1" && $0["timeNanoseconds"] is NSNumber })
        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("## Sampler faults"))
        #expect(report.contains("- powercap/intel-rapl:1 vanished at "))
        // Energy of the window with the gap is not guessed for psys; the other zones still measured it.
        let repetition = try #require(ConfigurationResult.join(run).first?.repetitions.first)
        let byID = Dictionary(uniqueKeysWithValues: repetition.domains.map { ($0.domainID, $0) })
        #expect(byID["powercap/intel-rapl:0"]?.joulesPerInference != nil)
        #expect(byID["powercap/intel-rapl:1"]?.fault != nil)
    }
}

/// Counters that count in the first window and fail afterwards (as a perf event closed under us).
final class CountersFailingAfterFirstWindow: WindowCounters {
    private var windows = 0
    func start() { windows += 1 }
    func stop() {}
    func read() -> [CounterRecord] {
        windows == 1 ? [CounterRecord(event: "instructions", value: 3_000_000, unavailableReason: nil)]
            : [CounterRecord(event: "instructions", value: nil, unavailableReason: "read failed: Input/output error")]
    }
}

extension RunFaultTests {
    @Test func aCounterThatFailsMidRunIsAFaultAndEarlierCountsAreKept() throws {
        let machine = try SimulatedMachine(zones: SimulatedMachine.nestedZones, thermalZone: false)
        let output = scratchOutput()
        defer { try? FileManager.default.removeItem(at: output) }
        let all = workloads(machine)
        var environment = machine.environment()
        environment.counters = CountersFailingAfterFirstWindow()
        let run = try TradeoffRunner(record: machine.record(plan: Self.plan, configurations: all.map(\.configuration)),
                                     workloads: all, accuracy: nil, environment: environment, output: output).run()
        #expect(run.record.complete)
        #expect(run.record.units[0].counters.first?.value == 3_000_000)
        #expect(run.record.units.dropFirst().allSatisfy { $0.counters.first?.value == nil })
        let events = try #require(run.record.events)
        #expect(events.count == 3 && events.allSatisfy { $0.kind == .counterFailed && $0.source == "perf event instructions" })
        let report = try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("counter-failed (perf event instructions): "))
        #expect(report.contains("read failed: Input/output error"))
        let summary = try String(contentsOf: output.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(summary.contains("\"runEvents\""))
    }
}
