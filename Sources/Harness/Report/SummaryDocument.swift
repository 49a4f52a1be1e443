import Telemetry

/// `summary.json`: everything joined, with the machine and software that produced it.
public struct SummaryDocument: Codable, Sendable {
    public struct EnergySummary: Codable, Sendable {
        public var sampledDomains: [EnergyDomain]
        /// The domains whose sum is the run's energy (never nested ones together).
        public var totalDomainIDs: [String]
        public var unavailableReason: String?
        public var unavailableFix: String?
        /// The stated power model used for estimates, if any.
        public var powerModel: String?
        /// What the energy figures of this run are: "measured", "estimated", "mixed" or "unavailable".
        public var figures: String
        /// Why energy could not be measured (the probe's reason, or what the sampled counters did).
        public var measurementUnavailableReason: String?
    }

    public struct Progress: Codable, Sendable {
        public var complete: Bool
        public var stopReason: String?
        public var plannedUnits: Int
        public var finishedUnits: [ScheduledUnit]
        /// Configurations with every planned repetition finished.
        public var finishedConfigurations: [String]
    }

    public struct Front: Codable, Sendable {
        /// "joules-per-inference" where energy exists, else "median-latency-ms".
        public var costAxis: String
        public var configurationIDs: [String]
    }

    public var run: String
    public var startedAt: String
    public var progress: Progress
    public var plan: RunPlan
    public var runOrder: [ScheduledUnit]
    /// States how the protocol compares with MLPerf Power's 600 s minimum.
    public var protocolNote: String
    public var energy: EnergySummary
    public var configurations: [ConfigurationResult]
    public var paretoFront: Front
    public var samplerFaults: [SamplerFault]
    /// Interruptions, resumptions and failed writes of the run itself (absent when there were none).
    public var runEvents: [RunEvent]?
    public var samplerOverhead: SamplerOverhead?
    public var logicalCPUs: Int
    public var machine: ProbeReport
    public var software: SoftwareVersions

    public init(run: RecordedRun, results: [ConfigurationResult]) {
        let record = run.record
        self.run = record.name
        startedAt = record.startedAt
        let finished = record.units.map { ScheduledUnit(configurationID: $0.configurationID, repetition: $0.repetition) }
        progress = Progress(
            complete: record.complete, stopReason: record.stopReason, plannedUnits: record.schedule.count,
            finishedUnits: finished,
            finishedConfigurations: record.configurations.map(\.id).filter { id in
                finished.filter { $0.configurationID == id }.count == record.plan.repetitions
            })
        plan = record.plan
        runOrder = record.schedule
        protocolNote = Self.protocolNote(record.plan.settings)
        energy = EnergySummary(sampledDomains: record.energy.domains, totalDomainIDs: record.energy.totalDomains.map(\.id),
                               unavailableReason: record.energy.unavailableReason,
                               unavailableFix: record.energy.unavailableFix,
                               powerModel: record.plan.powerModel.map { "\($0)" },
                               figures: Self.figures(results),
                               measurementUnavailableReason: record.energy.unavailableReason
                                   ?? results.flatMap(\.repetitions).compactMap(\.energy.measurementUnavailableReason).first)
        configurations = results
        let front = TradeoffFront(results)
        paretoFront = Front(costAxis: front.costAxis, configurationIDs: front.frontIDs)
        samplerFaults = record.faults
        runEvents = record.events
        samplerOverhead = record.samplerOverhead
        logicalCPUs = record.logicalCPUs
        machine = record.probe
        software = record.software
    }

    static func figures(_ results: [ConfigurationResult]) -> String {
        var kinds: Set<String> = []
        for repetition in results.flatMap(\.repetitions) {
            switch repetition.energy.source {
            case .measured: kinds.insert("measured")
            case .estimated: kinds.insert("estimated")
            case .unavailable: kinds.insert("unavailable")
            }
        }
        if kinds.count > 1 { return "mixed" }
        return kinds.first ?? "unavailable"
    }

    static func protocolNote(_ settings: ProtocolSettings) -> String {
        let window = settings.windowSeconds
        if window >= ProtocolSettings.mlperfPowerMinimumSeconds {
            return "Measured windows of at least \(window) s meet MLPerf Power's 600 s minimum."
        }
        return "Measured windows of at least \(window) s and \(settings.minimumInferences) inferences: shorter than "
            + "MLPerf Power's 600 s minimum, so results are not MLPerf-comparable (steady-state thermal effects "
            + "may be missed)."
    }
}

/// The Pareto front of accuracy against cost: energy per inference where every configuration on it
/// has one, otherwise median latency.
struct TradeoffFront {
    let costAxis: String
    let frontIDs: [String]
    let usesEnergy: Bool

    init(_ results: [ConfigurationResult]) {
        let withEnergy = results.filter { $0.joulesPerInference != nil }
        let energy = !withEnergy.isEmpty
        usesEnergy = energy
        let candidates = energy ? withEnergy : results
        let cost = candidates.map { energy ? $0.joulesPerInference!.mean : $0.latencyMedianMs.mean }
        let accuracy = candidates.map { $0.meanAveragePrecision ?? .nan }
        costAxis = energy ? "joules-per-inference" : "median-latency-ms"
        frontIDs = ParetoFront.indices(cost: cost, accuracy: accuracy).map { candidates[$0].configuration.id }
    }
}
