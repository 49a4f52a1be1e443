import Telemetry

/// One sample of every source, as recorded (the sampler's `EnergySample`, in a form that can be
/// written to CSV and read back bit for bit).
public struct RecordedSample: Equatable, Sendable {
    public var timeNanoseconds: UInt64
    /// Per domain (in `EnergySetup.domains` order); nil where the read failed.
    public var observations: [EnergyObservation?]
    /// Per domain, wrap-corrected µJ since the first sample.
    public var cumulativeMicrojoules: [UInt64]
    /// Per gauge (in `RunRecord.gaugeNames` order); nil where unreadable.
    public var gauges: [Double?]

    public init(timeNanoseconds: UInt64, observations: [EnergyObservation?], cumulativeMicrojoules: [UInt64],
                gauges: [Double?]) {
        self.timeNanoseconds = timeNanoseconds
        self.observations = observations
        self.cumulativeMicrojoules = cumulativeMicrojoules
        self.gauges = gauges
    }

    public init(_ sample: EnergySample) {
        self.init(timeNanoseconds: sample.timeNanoseconds, observations: sample.observations,
                  cumulativeMicrojoules: sample.cumulativeMicrojoules, gauges: sample.gauges)
    }
}

/// One measured inference.
public struct InferenceTiming: Hashable, Sendable {
    public var configurationID: String
    public var repetition: Int
    /// 0-based position in the measured window.
    public var index: Int
    public var image: Int
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64

    public init(configurationID: String, repetition: Int, index: Int, image: Int, startNanoseconds: UInt64,
                endNanoseconds: UInt64) {
        self.configurationID = configurationID
        self.repetition = repetition
        self.index = index
        self.image = image
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
    }
}

/// A performance counter over one measured window; `value` nil means unavailable (never 0).
public struct CounterRecord: Codable, Hashable, Sendable {
    public var event: String
    public var value: Double?
    public var unavailableReason: String?

    public init(event: String, value: Double?, unavailableReason: String?) {
        self.event = event
        self.value = value
        self.unavailableReason = unavailableReason
    }
}

/// The phase boundaries of one repetition of one configuration.
public struct UnitMarks: Codable, Hashable, Sendable {
    public var idle: PhaseMark
    public var warmUp: PhaseMark
    public var measure: PhaseMark
    public var coolDown: PhaseMark
    public var end: PhaseMark

    public init(idle: PhaseMark, warmUp: PhaseMark, measure: PhaseMark, coolDown: PhaseMark, end: PhaseMark) {
        self.idle = idle
        self.warmUp = warmUp
        self.measure = measure
        self.coolDown = coolDown
        self.end = end
    }

    public var all: [PhaseMark] { [idle, warmUp, measure, coolDown, end] }
}

/// Everything recorded about one finished repetition of one configuration, besides its samples and
/// inference timings.
public struct UnitRecord: Codable, Hashable, Sendable {
    public var configurationID: String
    public var repetition: Int
    /// Position in the run order (0-based).
    public var order: Int
    public var marks: UnitMarks
    public var warmupInferences: Int
    /// Process CPU time (all threads) at the idle and measure boundaries, for estimated utilisation.
    public var processCPUNanosecondsAtIdleStart: UInt64
    public var processCPUNanosecondsAtIdleEnd: UInt64
    public var processCPUNanosecondsAtMeasureStart: UInt64
    public var processCPUNanosecondsAtMeasureEnd: UInt64
    public var counters: [CounterRecord]
    /// Increase of the CPU's own throttle counters over the window; nil where the machine has none.
    public var throttleEventsDuringWindow: UInt64?
    /// Whether cool-down reached the idle temperature; nil without a temperature source.
    public var coolDownReachedBaseline: Bool?
    public var workloadPeakMemoryBytes: Int?
    /// The process's peak resident set (VmHWM) after the window: includes everything loaded so far.
    public var processPeakResidentBytes: Int?
}

/// The energy sources of the run, as sampled.
public struct EnergySetup: Codable, Hashable, Sendable {
    /// Every sampled domain, in sample column order.
    public var domains: [EnergyDomain]
    /// Why no source can measure energy here, and the fix (the probe's words).
    public var unavailableReason: String?
    public var unavailableFix: String?

    public init(domains: [EnergyDomain], unavailableReason: String?, unavailableFix: String?) {
        self.domains = domains
        self.unavailableReason = unavailableReason
        self.unavailableFix = unavailableFix
    }

    public init(selection: EnergySourceSelection) {
        self.init(domains: selection.sources.flatMap(\.domains), unavailableReason: selection.unavailable?.reason,
                  unavailableFix: selection.unavailable?.fix)
    }

    /// The domains summed for the run's energy: one interface, nothing nested or duplicated.
    public var totalDomains: [EnergyDomain] { EnergyTopology.preferredNonOverlappingDomains(domains) }
}

/// Tool, compiler and OS that produced the run.
public struct SoftwareVersions: Codable, Hashable, Sendable {
    public var tool: String
    public var swiftCompiler: String
    public var operatingSystem: String
    public var kernelRelease: String
    public var machine: String
    /// The instruction set the inference kernels used ("avx512 + VNNI", "avx2-fma", "portable"): the same
    /// model runs several times faster on some than on others. nil in records made before it was kept.
    public var kernels: String?

    public init(tool: String, swiftCompiler: String, operatingSystem: String, kernelRelease: String, machine: String,
                kernels: String? = nil) {
        self.tool = tool
        self.swiftCompiler = swiftCompiler
        self.operatingSystem = operatingSystem
        self.kernelRelease = kernelRelease
        self.machine = machine
        self.kernels = kernels
    }
}

/// Everything about a run except the sample trace and the inference timeline (which live in CSV):
/// the input of every join and report.
public struct RunRecord: Codable, Sendable {
    public static let currentFormat = 1

    public var format: Int = RunRecord.currentFormat
    public var name: String
    /// Wall-clock start, ISO 8601 (for humans; every join uses the monotonic timestamps).
    public var startedAt: String
    public var complete: Bool
    /// Why the run stopped early, when it did.
    public var stopReason: String?
    public var plan: RunPlan
    public var schedule: [ScheduledUnit]
    public var configurations: [RunConfiguration]
    public var units: [UnitRecord]
    public var energy: EnergySetup
    public var gaugeNames: [String]
    public var faults: [SamplerFault]
    public var accuracy: [AccuracyRecord]
    public var logicalCPUs: Int
    public var probe: ProbeReport
    public var software: SoftwareVersions
    public var samplerOverhead: SamplerOverhead?
    /// Interruptions, resumptions and failed writes, in order (absent in runs that had none).
    public var events: [RunEvent]?

    public init(name: String, startedAt: String, plan: RunPlan, configurations: [RunConfiguration],
                energy: EnergySetup, gaugeNames: [String], logicalCPUs: Int, probe: ProbeReport,
                software: SoftwareVersions) {
        self.name = name
        self.startedAt = startedAt
        complete = false
        self.plan = plan
        schedule = plan.schedule()
        self.configurations = configurations
        units = []
        self.energy = energy
        self.gaugeNames = gaugeNames
        faults = []
        accuracy = []
        self.logicalCPUs = logicalCPUs
        self.probe = probe
        self.software = software
    }
}

/// A run as stored: the record plus the trace and the timeline.
public struct RecordedRun: Sendable {
    public var record: RunRecord
    public var samples: [RecordedSample]
    public var timeline: [InferenceTiming]

    public init(record: RunRecord, samples: [RecordedSample], timeline: [InferenceTiming]) {
        self.record = record
        self.samples = samples
        self.timeline = timeline
    }
}
