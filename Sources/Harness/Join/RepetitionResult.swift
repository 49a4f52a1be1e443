import Telemetry

/// Whether the CPU throttled itself during the window, and on what evidence.
public struct ThrottlingAssessment: Codable, Hashable, Sendable {
    /// nil when the machine offers no throttle signal.
    public var observed: Bool?
    public var evidence: String
}

/// Everything joined for one repetition of one configuration.
public struct RepetitionResult: Codable, Equatable, Sendable {
    public var configurationID: String
    public var repetition: Int
    public var order: Int
    public var idleSeconds: Double
    public var windowSeconds: Double
    public var inferences: Int
    public var energy: EnergyWindow
    public var domains: [DomainWindowEnergy]
    public var latency: LatencySummary
    public var inferencesPerSecond: Double?
    /// Energy-delay product per inference: J/inference × mean latency in s (J·s).
    public var energyDelayProduct: MaybeValue
    /// Process CPU time over the window / (window × logical CPUs).
    public var cpuUtilisation: Double?
    public var counters: CounterMetrics
    /// Temperatures and frequencies over the measured window.
    public var gauges: [GaugeStatistics]
    public var throttling: ThrottlingAssessment
    public var coolDownReachedBaseline: Bool?

    public static func join(_ run: RecordedRun, unit: UnitRecord) -> RepetitionResult {
        let timings = run.timeline.filter { $0.configurationID == unit.configurationID && $0.repetition == unit.repetition }
        let inferences = timings.count
        let (energy, domains) = EnergyWindowJoin.join(run, unit: unit, inferences: inferences)
        let windowSeconds = EnergyWindowJoin.seconds(from: unit.marks.measure, to: unit.marks.coolDown)
        let latency = LatencySummary(milliseconds: timings.map {
            Double($0.endNanoseconds >= $0.startNanoseconds ? $0.endNanoseconds - $0.startNanoseconds : 0) / 1e6
        })
        let edp: MaybeValue
        if let joules = energy.joulesPerInference, latency.count > 0 {
            edp = MaybeValue(joules * latency.meanMs / 1e3)
        } else {
            edp = .unavailable(latency.count == 0 ? "no inferences" : "energy unavailable")
        }
        let cpu = unit.processCPUNanosecondsAtMeasureEnd >= unit.processCPUNanosecondsAtMeasureStart
            ? unit.processCPUNanosecondsAtMeasureEnd - unit.processCPUNanosecondsAtMeasureStart : 0
        let utilisation = windowSeconds > 0 && run.record.logicalCPUs > 0
            ? Double(cpu) / 1e9 / (windowSeconds * Double(run.record.logicalCPUs)) : nil
        let throttling: ThrottlingAssessment
        if let events = unit.throttleEventsDuringWindow {
            throttling = ThrottlingAssessment(observed: events > 0,
                                              evidence: "CPU thermal_throttle counters rose by \(events) during the window")
        } else {
            throttling = ThrottlingAssessment(observed: nil, evidence: "no throttle counters on this machine")
        }
        return RepetitionResult(
            configurationID: unit.configurationID, repetition: unit.repetition, order: unit.order,
            idleSeconds: EnergyWindowJoin.seconds(from: unit.marks.idle, to: unit.marks.warmUp),
            windowSeconds: windowSeconds, inferences: inferences, energy: energy, domains: domains, latency: latency,
            inferencesPerSecond: windowSeconds > 0 ? Double(inferences) / windowSeconds : nil,
            energyDelayProduct: edp, cpuUtilisation: utilisation,
            counters: CounterMetrics(counters: unit.counters, inferences: inferences),
            gauges: GaugeStatistics.over(run, samples: unit.marks.measure.sampleIndex...unit.marks.coolDown.sampleIndex),
            throttling: throttling, coolDownReachedBaseline: unit.coolDownReachedBaseline)
    }
}
