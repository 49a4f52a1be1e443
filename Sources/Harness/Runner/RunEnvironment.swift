import Telemetry

/// What the runner measures with. The CLI fills it with the live machine; tests with a simulated
/// sysfs tree, a manual clock and a pacer that moves it.
public struct RunEnvironment {
    /// Already sampling (background thread started) or driven by the pacer in tests.
    public var sampler: Sampler
    /// The sampler's clock: inference timestamps and phase marks share one time base.
    public var clock: any MonotonicClock
    public var pacer: any RunPacer
    public var counters: (any WindowCounters)?
    public var processCPUNanoseconds: () -> UInt64
    /// Sum of the CPU's throttle event counters now; nil where there are none.
    public var throttleEventCount: () -> UInt64?
    public var peakResidentBytes: () -> Int?
    public var stop: StopRequest
    public var progress: any RunProgress
    /// Stops background sampling at the end of the run and says what it cost.
    public var stopSampling: () -> SamplerOverhead?

    public init(sampler: Sampler, clock: any MonotonicClock, pacer: any RunPacer, counters: (any WindowCounters)?,
                processCPUNanoseconds: @escaping () -> UInt64, throttleEventCount: @escaping () -> UInt64?,
                peakResidentBytes: @escaping () -> Int?, stop: StopRequest, progress: any RunProgress,
                stopSampling: @escaping () -> SamplerOverhead?) {
        self.sampler = sampler
        self.clock = clock
        self.pacer = pacer
        self.counters = counters
        self.processCPUNanoseconds = processCPUNanoseconds
        self.throttleEventCount = throttleEventCount
        self.peakResidentBytes = peakResidentBytes
        self.stop = stop
        self.progress = progress
        self.stopSampling = stopSampling
    }

    /// The live machine: the sampler runs on its own thread at the plan's interval.
    public static func live(sampler: Sampler, counters: (any WindowCounters)?, stop: StopRequest,
                            progress: any RunProgress, reader: any SysfsReading = SysfsReader()) -> RunEnvironment {
        RunEnvironment(
            sampler: sampler, clock: SystemMonotonicClock(), pacer: SleepingPacer(), counters: counters,
            processCPUNanoseconds: { Telemetry.processCPUNanoseconds() },
            throttleEventCount: {
                let cpus = ThrottleSignals.intelCounts(reader)
                guard !cpus.isEmpty else { return nil }
                return cpus.reduce(UInt64(0)) { sum, cpu in cpu.counts.values.reduce(sum, +) }
            },
            peakResidentBytes: { ProcessMemory.peakResidentBytes() }, stop: stop, progress: progress,
            stopSampling: { sampler.stop() })
    }
}
