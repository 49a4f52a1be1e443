import Foundation
import Telemetry

public enum TradeoffRunError: Error, CustomStringConvertible {
    case missingWorkload(String)
    case noImages(String)
    case samplerMismatch(String)
    case notResumable(String)

    public var description: String {
        switch self {
        case let .missingWorkload(id): return "no workload for configuration \(id)"
        case let .noImages(id): return "\(id): the workload prepared no images"
        case let .samplerMismatch(detail): return "run record does not match the sampler: \(detail)"
        case let .notResumable(detail): return "cannot resume: \(detail)"
        }
    }
}

/// Runs the plan's schedule: per repetition of each configuration an idle baseline, warm-up, a
/// measured window and a cool-down, each phase marked on the sampler. After every finished
/// repetition the raw files and reports are rewritten, so an interrupted run is a valid partial run.
public final class TradeoffRunner {
    private var record: RunRecord
    private let workloads: [String: any InferenceWorkload]
    private let accuracy: (any AccuracyProvider)?
    private let environment: RunEnvironment
    private let output: URL
    private var timeline: [InferenceTiming] = []
    /// What earlier sessions of a resumed run recorded; this session's samples follow them.
    private let earlierSamples: [RecordedSample]
    private let earlierTimeline: [InferenceTiming]
    private let earlierFaults: [SamplerFault]
    /// Writes the results folder; tests substitute a failing writer to simulate a full disk.
    var writeResults: (RecordedRun, URL) throws -> Void = { run, output in
        try RawRunFiles.write(run, to: output)
        try ReportRenderer.render(runDirectory: output)
    }

    /// `record` describes the run (plan, configurations, energy setup, machine); the runner fills in
    /// the schedule's results.
    public init(record: RunRecord, workloads: [any InferenceWorkload], accuracy: (any AccuracyProvider)?,
                environment: RunEnvironment, output: URL) throws {
        try record.plan.validate()
        var byID: [String: any InferenceWorkload] = [:]
        for workload in workloads { byID[workload.configuration.id] = workload }
        for key in record.plan.configurationKeys where byID[key.id] == nil {
            throw TradeoffRunError.missingWorkload(key.id)
        }
        guard record.energy.domains.map(\.id) == environment.sampler.domains.map(\.id) else {
            throw TradeoffRunError.samplerMismatch("energy domains differ")
        }
        guard record.gaugeNames == environment.sampler.gaugeNames else {
            throw TradeoffRunError.samplerMismatch("gauges differ")
        }
        self.record = record
        self.record.schedule = record.plan.schedule()
        self.workloads = byID
        self.accuracy = accuracy
        self.environment = environment
        self.output = output
        earlierSamples = []
        earlierTimeline = []
        earlierFaults = []
    }

    /// Continues an interrupted run: its stored plan, schedule (seeded order) and finished repetitions
    /// are kept, accuracy already computed is kept, and only the repetitions not yet finished run.
    /// The new samples are appended to the stored trace (marks shifted to match).
    public init(resuming earlier: RecordedRun, workloads: [any InferenceWorkload], accuracy: (any AccuracyProvider)?,
                environment: RunEnvironment, output: URL) throws {
        var record = earlier.record
        guard !record.complete else { throw TradeoffRunError.notResumable("\(output.path) is already complete") }
        guard record.schedule == record.plan.schedule() else {
            throw TradeoffRunError.notResumable("the stored run order does not follow from its plan and seed")
        }
        var byID: [String: any InferenceWorkload] = [:]
        for workload in workloads { byID[workload.configuration.id] = workload }
        for key in record.plan.configurationKeys where byID[key.id] == nil {
            throw TradeoffRunError.missingWorkload(key.id)
        }
        guard record.energy.domains.map(\.id) == environment.sampler.domains.map(\.id) else {
            throw TradeoffRunError.samplerMismatch("energy domains differ from the interrupted run's "
                                                   + "(\(record.energy.domains.map(\.id)) then, \(environment.sampler.domains.map(\.id)) now)")
        }
        guard record.gaugeNames == environment.sampler.gaugeNames else {
            throw TradeoffRunError.samplerMismatch("gauges differ from the interrupted run's")
        }
        // Accuracy that failed or was never computed is tried again; results are kept.
        record.accuracy = record.accuracy.filter { $0.result != nil }
        record.stopReason = nil
        record.events = (record.events ?? []) + [RunEvent(
            time: Self.wallClock(), kind: .resumed, source: "resume",
            detail: "\(record.units.count) of \(record.schedule.count) repetitions were finished")]
        self.record = record
        self.workloads = byID
        self.accuracy = accuracy
        self.environment = environment
        self.output = output
        earlierSamples = earlier.samples
        earlierTimeline = earlier.timeline
        earlierFaults = earlier.record.faults
    }

    static func wallClock() -> String { ISO8601DateFormatter().string(from: Date()) }

    /// Scheduled repetitions not yet finished, with their position in the run order.
    private var remainingUnits: [(order: Int, unit: ScheduledUnit)] {
        let finished = Set(record.units.map { ScheduledUnit(configurationID: $0.configurationID, repetition: $0.repetition) })
        return record.schedule.enumerated().filter { !finished.contains($0.element) }.map { ($0.offset, $0.element) }
    }

    /// Runs to the end or until a stop is requested; returns what was recorded (also on disk).
    @discardableResult
    public func run() throws -> RecordedRun {
        do {
            try prepareAndEvaluate()
            for (order, scheduled) in remainingUnits {
                if environment.stop.reason != nil { break }
                guard let unit = try runUnit(scheduled, order: order) else { break }
                record.units.append(unit)
                try persist()
            }
        } catch {
            // Keep what finished, say why the rest did not, then report the failure.
            record.stopReason = "failed: \(error)"
            let source = error is AtomicFileError ? "results folder" : "run"
            record.events = (record.events ?? []) + [RunEvent(
                time: Self.wallClock(), kind: error is AtomicFileError ? .writeFailed : .interrupted,
                source: source, detail: "\(error)")]
            record.samplerOverhead = environment.stopSampling()
            _ = try? persist()
            throw error
        }
        record.complete = remainingUnits.isEmpty
        if !record.complete {
            let reason = environment.stop.reason ?? "stopped"
            record.stopReason = reason
            record.events = (record.events ?? []) + [RunEvent(
                time: Self.wallClock(), kind: .interrupted, source: Self.signalName(in: reason) ?? "run",
                detail: "\(reason); \(record.units.count) of \(record.schedule.count) repetitions finished")]
        }
        record.samplerOverhead = environment.stopSampling()
        return try persist()
    }

    private static func signalName(in reason: String) -> String? {
        ["SIGINT", "SIGTERM"].first { reason.contains($0) }
    }

    @discardableResult
    private func persist() throws -> RecordedRun {
        record.faults = earlierFaults + environment.sampler.faults()
        let run = RecordedRun(record: record,
                              samples: earlierSamples + environment.sampler.samples().map(RecordedSample.init),
                              timeline: earlierTimeline + timeline)
        try writeResults(run, output)
        return run
    }

    /// Model loading, image decoding and accuracy: all before any measurement.
    private func prepareAndEvaluate() throws {
        let unfinished = Set(remainingUnits.map(\.unit.configurationID))
        for key in record.plan.configurationKeys where unfinished.contains(key.id) {
            if environment.stop.reason != nil { return }
            let workload = workloads[key.id]!
            environment.progress.note("preparing \(key.id)")
            try workload.prepare()
            guard workload.imageCount > 0 else { throw TradeoffRunError.noImages(key.id) }
        }
        var evaluated = Set(record.accuracy.map(\.modelID))
        for key in record.plan.configurationKeys where evaluated.insert(key.modelID).inserted {
            let configuration = workloads[key.id]!.configuration
            if let reason = environment.stop.reason {
                record.accuracy.append(AccuracyRecord(modelID: key.modelID, precision: configuration.precision, result: nil,
                                                      unavailableReason: "not evaluated: \(reason)"))
                continue
            }
            guard let accuracy else {
                record.accuracy.append(AccuracyRecord(modelID: key.modelID, precision: configuration.precision, result: nil,
                                                      unavailableReason: "no accuracy evaluator was given"))
                continue
            }
            environment.progress.note("evaluating accuracy of \(key.modelID)")
            do {
                let result = try accuracy.accuracy(for: configuration)
                record.accuracy.append(AccuracyRecord(modelID: key.modelID, precision: configuration.precision,
                                                      result: result, unavailableReason: nil))
            } catch {
                record.accuracy.append(AccuracyRecord(modelID: key.modelID, precision: configuration.precision,
                                                      result: nil, unavailableReason: "\(error)"))
            }
        }
    }

    private var now: UInt64 { environment.clock.nanoseconds() }

    /// One repetition of one configuration; nil if a stop request cut it short before its window ended.
    private func runUnit(_ scheduled: ScheduledUnit, order: Int) throws -> UnitRecord? {
        let workload = workloads[scheduled.configurationID]!
        let settings = record.plan.settings
        let images = min(settings.images ?? workload.imageCount, workload.imageCount)
        let sampler = environment.sampler
        func status(_ phase: Phase, left: Double? = nil, inferences: Int? = nil) {
            environment.progress.report(RunStatus(unitNumber: order + 1, unitCount: record.schedule.count,
                                                  configurationID: scheduled.configurationID,
                                                  repetition: scheduled.repetition, phase: phase.rawValue,
                                                  secondsLeft: left, inferences: inferences,
                                                  runSecondsLeftAtLeast: Double(record.schedule.count - order - 1)
                                                      * (settings.idleSeconds + settings.windowSeconds)
                                                      + max(0, left ?? 0)))
        }
        func abandon() -> UnitRecord? {
            sampler.mark(.end)
            return nil
        }

        status(.idle, left: settings.idleSeconds)
        let cpuIdleStart = environment.processCPUNanoseconds()
        let idle = sampler.mark(.idle)
        guard wait(seconds: settings.idleSeconds, from: idle.timeNanoseconds, phase: .idle, status: status) else {
            return abandon()
        }
        let cpuIdleEnd = environment.processCPUNanoseconds()
        let warmUp = sampler.mark(.warmUp)
        status(.warmUp)
        for index in 0..<settings.warmupInferences {
            if environment.stop.reason != nil { return abandon() }
            try workload.infer(imageIndex: index % images)
        }

        let windowNanoseconds = UInt64(settings.windowSeconds * 1e9)
        var timings: [InferenceTiming] = []
        environment.counters?.start()
        let throttleStart = environment.throttleEventCount()
        let cpuMeasureStart = environment.processCPUNanoseconds()
        let measure = sampler.mark(.measure)
        var lastReport = measure.timeNanoseconds
        status(.measure, left: settings.windowSeconds)
        while true {
            let elapsed = now &- measure.timeNanoseconds
            if elapsed >= windowNanoseconds && timings.count >= settings.minimumInferences { break }
            if environment.stop.reason != nil {
                environment.counters?.stop()
                return abandon()
            }
            let index = timings.count
            let image = index % images
            let start = now
            try workload.infer(imageIndex: image)
            let end = now
            timings.append(InferenceTiming(configurationID: scheduled.configurationID, repetition: scheduled.repetition,
                                           index: index, image: image, startNanoseconds: start, endNanoseconds: end))
            if end &- lastReport >= 1_000_000_000 {
                lastReport = end
                status(.measure, left: (Double(windowNanoseconds) - Double(end &- measure.timeNanoseconds)) / 1e9,
                       inferences: timings.count)
            }
        }
        let coolDown = sampler.mark(.coolDown)
        let cpuMeasureEnd = environment.processCPUNanoseconds()
        environment.counters?.stop()
        let counters = environment.counters?.read() ?? []
        recordCounterFailures(counters, configurationID: scheduled.configurationID, repetition: scheduled.repetition)
        let throttleEnd = environment.throttleEventCount()
        let reachedBaseline = coolDownToIdleTemperature(idle: idle, warmUp: warmUp, status: status)
        let end = sampler.mark(.end)
        timeline += timings
        // Marks index this session's samples; the stored trace has the earlier sessions' in front.
        let offset = earlierSamples.count
        func stored(_ mark: PhaseMark) -> PhaseMark {
            PhaseMark(phase: mark.phase, timeNanoseconds: mark.timeNanoseconds, sampleIndex: mark.sampleIndex + offset)
        }

        var throttleEvents: UInt64?
        if let throttleStart, let throttleEnd { throttleEvents = throttleEnd >= throttleStart ? throttleEnd - throttleStart : 0 }
        return UnitRecord(
            configurationID: scheduled.configurationID, repetition: scheduled.repetition, order: order,
            marks: UnitMarks(idle: stored(idle), warmUp: stored(warmUp), measure: stored(measure),
                             coolDown: stored(coolDown), end: stored(end)),
            warmupInferences: settings.warmupInferences, processCPUNanosecondsAtIdleStart: cpuIdleStart,
            processCPUNanosecondsAtIdleEnd: cpuIdleEnd, processCPUNanosecondsAtMeasureStart: cpuMeasureStart,
            processCPUNanosecondsAtMeasureEnd: cpuMeasureEnd, counters: counters,
            throttleEventsDuringWindow: throttleEvents, coolDownReachedBaseline: reachedBaseline,
            workloadPeakMemoryBytes: workload.peakMemoryBytes, processPeakResidentBytes: environment.peakResidentBytes())
    }

    /// A counter that worked in an earlier window and fails now (perf event closed, read error) is a
    /// fault of the run, not just a missing value: it is listed with time and source.
    private func recordCounterFailures(_ counters: [CounterRecord], configurationID: String, repetition: Int) {
        let countedBefore = Set(record.units.flatMap(\.counters).filter { $0.value != nil }.map(\.event))
        for counter in counters where counter.value == nil && countedBefore.contains(counter.event) {
            record.events = (record.events ?? []) + [RunEvent(
                time: Self.wallClock(), kind: .counterFailed, source: "perf event \(counter.event)",
                detail: "\(configurationID) repetition \(repetition): \(counter.unavailableReason ?? "no value")")]
        }
    }

    /// Waits `seconds` of the run clock from `start`; false if a stop was requested meanwhile.
    private func wait(seconds: Double, from start: UInt64, phase: Phase,
                      status: (Phase, Double?, Int?) -> Void) -> Bool {
        let total = UInt64(seconds * 1e9)
        var lastReport = start
        while true {
            if environment.stop.reason != nil { return false }
            let elapsed = now &- start
            if elapsed >= total { return true }
            environment.pacer.pause(nanoseconds: min(total - elapsed, 100_000_000))
            if now &- lastReport >= 1_000_000_000 {
                lastReport = now
                status(phase, (Double(total) - Double(now &- start)) / 1e9, nil)
            }
        }
    }

    /// Waits until the hottest temperature gauge is back within tolerance of its idle mean (bounded).
    /// nil when there is no temperature source (then there is nothing to wait for).
    private func coolDownToIdleTemperature(idle: PhaseMark, warmUp: PhaseMark,
                                           status: (Phase, Double?, Int?) -> Void) -> Bool? {
        let settings = record.plan.settings
        let columns = record.gaugeNames.indices.filter { GaugeStatistics.kind(of: record.gaugeNames[$0]) == .temperatureCelsius }
        guard !columns.isEmpty else { return nil }
        func hottest(_ gauges: [Double?]) -> Double? { columns.compactMap { gauges[$0] }.max() }
        let idleSamples = environment.sampler.samples()[idle.sampleIndex...warmUp.sampleIndex]
        let idleReadings = idleSamples.compactMap { hottest($0.gauges) }
        guard !idleReadings.isEmpty else { return nil }
        let target = idleReadings.reduce(0, +) / Double(idleReadings.count) + settings.coolDownToleranceCelsius
        let start = now
        let limit = UInt64(settings.coolDownMaximumSeconds * 1e9)
        status(.coolDown, settings.coolDownMaximumSeconds, nil)
        while true {
            if let current = hottest(environment.sampler.sampleOnce().gauges), current <= target { return true }
            if environment.stop.reason != nil || now &- start >= limit { return false }
            environment.pacer.pause(nanoseconds: min(limit - (now &- start), 250_000_000))
        }
    }
}
