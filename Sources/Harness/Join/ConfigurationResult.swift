import Telemetry

/// One configuration across its repetitions: a row of the trade-off.
public struct ConfigurationResult: Codable, Equatable, Sendable {
    public var configuration: RunConfiguration
    public var repetitions: [RepetitionResult]
    /// The source of the energy figures below (the repetitions that have one share it).
    public var energySource: EnergyProvenance
    /// Across repetitions with an energy figure; nil when none has one (see `energySource`).
    public var joulesPerInference: RepetitionSummary?
    public var aboveIdleJoulesPerInference: RepetitionSummary?
    public var averageWatts: RepetitionSummary?
    public var baselineWatts: RepetitionSummary?
    public var energyDelayProduct: RepetitionSummary?
    /// Median latency of each repetition, summarised across repetitions.
    public var latencyMedianMs: RepetitionSummary
    /// Every measured inference of every repetition, pooled.
    public var latency: LatencySummary
    public var inferencesPerSecond: RepetitionSummary
    public var inferences: Int
    public var counters: CounterMetrics?
    public var gauges: [GaugeStatistics]
    /// True if any repetition saw throttling; nil when no repetition could tell.
    public var throttled: Bool?
    public var accuracy: AccuracyRecord?
    public var modelSizeBytes: Int?
    public var peakMemoryBytes: Int?
    public var processPeakResidentBytes: Int?

    public var meanAveragePrecision: Double? { accuracy?.result?.meanAveragePrecision }

    public static func join(_ run: RecordedRun) -> [ConfigurationResult] {
        let record = run.record
        return record.configurations.compactMap { configuration in
            let units = record.units.filter { $0.configurationID == configuration.id }.sorted { $0.repetition < $1.repetition }
            guard !units.isEmpty else { return nil }
            let repetitions = units.map { RepetitionResult.join(run, unit: $0) }
            let withEnergy = repetitions.filter { $0.energy.joulesPerInference != nil }
            func summary(_ values: [Double?]) -> RepetitionSummary? {
                let present = values.compactMap { $0 }
                return present.isEmpty ? nil : RepetitionSummary(present)
            }
            let throttleSignals = repetitions.compactMap(\.throttling.observed)
            return ConfigurationResult(
                configuration: configuration, repetitions: repetitions,
                energySource: (withEnergy.first ?? repetitions[0]).energy.source,
                joulesPerInference: summary(withEnergy.map(\.energy.joulesPerInference)),
                aboveIdleJoulesPerInference: summary(withEnergy.map(\.energy.aboveIdleJoulesPerInference.value)),
                averageWatts: summary(withEnergy.map(\.energy.averageWatts)),
                baselineWatts: summary(withEnergy.map(\.energy.baselineWatts.value)),
                energyDelayProduct: summary(withEnergy.map(\.energyDelayProduct.value)),
                latencyMedianMs: RepetitionSummary(repetitions.map(\.latency.medianMs)),
                latency: LatencySummary(milliseconds: run.timeline.filter { $0.configurationID == configuration.id }.map {
                    Double($0.endNanoseconds >= $0.startNanoseconds ? $0.endNanoseconds - $0.startNanoseconds : 0) / 1e6
                }),
                inferencesPerSecond: RepetitionSummary(repetitions.compactMap(\.inferencesPerSecond)),
                inferences: repetitions.reduce(0) { $0 + $1.inferences },
                counters: CounterMetrics.mean(repetitions.map(\.counters)),
                gauges: GaugeStatistics.combine(repetitions.map(\.gauges)),
                throttled: throttleSignals.isEmpty ? nil : throttleSignals.contains(true),
                accuracy: record.accuracy.first { $0.modelID == configuration.modelID },
                modelSizeBytes: configuration.modelSizeBytes,
                peakMemoryBytes: units.compactMap(\.workloadPeakMemoryBytes).max(),
                processPeakResidentBytes: units.compactMap(\.processPeakResidentBytes).max())
        }
    }
}
