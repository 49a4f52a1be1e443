import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One record of the trace: raw values as read, and the wrap-corrected energy so far per domain.
public struct EnergySample: Sendable {
    public let timeNanoseconds: UInt64
    /// Per domain (in `Sampler.domains` order); nil where the read failed.
    public let observations: [EnergyObservation?]
    /// Per domain, µJ accumulated since the first sample.
    public let cumulativeMicrojoules: [UInt64]
    /// Per gauge (in `Sampler.gaugeNames` order).
    public let gauges: [Double?]
}

/// A domain's accumulated energy at the end (or now).
public struct DomainEnergy: Sendable {
    public let domain: EnergyDomain
    public let microjoules: UInt64
    public let wraps: Int
    public let faults: [SamplerFault]
}

/// What sampling cost: the sampler thread's own CPU time per second of run.
public struct SamplerOverhead: Codable, Hashable, Sendable {
    public let samples: Int
    public let wallNanoseconds: UInt64
    public let threadCPUNanoseconds: UInt64
    /// Deadlines missed by more than one interval (the machine was too busy to sample on time).
    public let lateSamples: Int
    public var cpuSecondsPerSecond: Double {
        wallNanoseconds == 0 ? 0 : Double(threadCPUNanoseconds) / Double(wallNanoseconds)
    }
}

/// Reads every energy and gauge source on one background thread at a fixed interval.
///
/// Tests and callers that want full control call `sampleOnce()` with an injected clock instead of
/// `start()`. Every sample is stamped with the monotonic clock; `mark(_:)` takes a sample at once so
/// phase boundaries cut the trace exactly.
public final class Sampler: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var intervalNanoseconds: UInt64 = 10_000_000
        /// A counter that shows the same value this long is flagged as stuck.
        public var stuckAfterNanoseconds: UInt64 = 1_000_000_000
        /// A decrease is a wrap only if the implied energy fits under this power; else a backwards jump.
        public var maximumPlausiblePowerWatts: Double = 10_000
        public init(intervalNanoseconds: UInt64 = 10_000_000, stuckAfterNanoseconds: UInt64 = 1_000_000_000,
                    maximumPlausiblePowerWatts: Double = 10_000) {
            self.intervalNanoseconds = intervalNanoseconds
            self.stuckAfterNanoseconds = stuckAfterNanoseconds
            self.maximumPlausiblePowerWatts = maximumPlausiblePowerWatts
        }
    }

    public let configuration: Configuration
    public let domains: [EnergyDomain]
    public let gaugeNames: [String]
    private let energySources: [any EnergySource]
    private let gaugeSources: [any GaugeSource]
    private let clock: any MonotonicClock

    private let lock = NSLock()
    private var accumulators: [DomainAccumulator]
    private var recordedSamples: [EnergySample] = []
    private var recordedFaults: [SamplerFault] = []
    private var marks: [PhaseMark] = []

    private var stopRequested = false
    private var running = false
    private let finished = DispatchSemaphore(value: 0)
    private var lastOverhead: SamplerOverhead?

    public init(energySources: [any EnergySource], gaugeSources: [any GaugeSource] = [],
                configuration: Configuration = Configuration(), clock: any MonotonicClock = SystemMonotonicClock()) {
        self.energySources = energySources
        self.gaugeSources = gaugeSources
        self.configuration = configuration
        self.clock = clock
        domains = energySources.flatMap(\.domains)
        gaugeNames = gaugeSources.flatMap(\.names)
        accumulators = domains.map(DomainAccumulator.init)
        recordedSamples.reserveCapacity(4096)
    }

    /// Reads every source once and appends a sample.
    @discardableResult
    public func sampleOnce() -> EnergySample {
        lock.lock()
        defer { lock.unlock() }
        return takeSample()
    }

    private func takeSample() -> EnergySample {
        let results = energySources.flatMap { $0.read() }
        let time = clock.nanoseconds()
        var observations: [EnergyObservation?] = []
        observations.reserveCapacity(results.count)
        for (index, result) in results.enumerated() where index < accumulators.count {
            recordedFaults += accumulators[index].observe(result, at: time, configuration: configuration)
            observations.append(try? result.get())
        }
        let gauges = gaugeSources.flatMap { $0.read() }
        let sample = EnergySample(timeNanoseconds: time, observations: observations,
                                  cumulativeMicrojoules: accumulators.map(\.microjoules), gauges: gauges)
        recordedSamples.append(sample)
        return sample
    }

    /// Starts a phase: takes a sample now and remembers it as the boundary.
    @discardableResult
    public func mark(_ phase: Phase) -> PhaseMark {
        lock.lock()
        defer { lock.unlock() }
        let sample = takeSample()
        let mark = PhaseMark(phase: phase, timeNanoseconds: sample.timeNanoseconds, sampleIndex: recordedSamples.count - 1)
        marks.append(mark)
        return mark
    }

    /// Starts the background thread (real time, CLOCK_MONOTONIC absolute deadlines).
    public func start() {
        lock.lock()
        guard !running else { lock.unlock(); return }
        running = true
        stopRequested = false
        lock.unlock()
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "ssd-energy sampler"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Stops the thread (after at most one interval) and returns what sampling cost.
    @discardableResult
    public func stop() -> SamplerOverhead? {
        lock.lock()
        let wasRunning = running
        stopRequested = true
        lock.unlock()
        if wasRunning { finished.wait() }
        lock.lock()
        defer { lock.unlock() }
        running = false
        return lastOverhead
    }

    private func runLoop() {
        let interval = configuration.intervalNanoseconds
        let cpuStart = currentThreadCPUNanoseconds()
        let wallStart = clockNanoseconds(CLOCK_MONOTONIC)
        var deadline = wallStart
        var samples = 0
        var late = 0
        while true {
            // Sample first, then check for stop: every run has at least one sample from this thread.
            lock.lock()
            _ = takeSample()
            let stopping = stopRequested
            lock.unlock()
            samples += 1
            if stopping { break }
            deadline += interval
            let now = clockNanoseconds(CLOCK_MONOTONIC)
            if now > deadline + interval {
                // Too late for the next slot: skip ahead instead of sampling in a burst.
                late += 1
                deadline = now
            }
            var wake = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nil) == EINTR {}
        }
        let overhead = SamplerOverhead(samples: samples, wallNanoseconds: clockNanoseconds(CLOCK_MONOTONIC) - wallStart,
                                       threadCPUNanoseconds: currentThreadCPUNanoseconds() - cpuStart, lateSamples: late)
        lock.lock()
        lastOverhead = overhead
        lock.unlock()
        finished.signal()
    }

    // MARK: results

    /// Accumulated energy per domain, exact µJ, wrap-corrected.
    public func totals() -> [DomainEnergy] {
        lock.lock()
        defer { lock.unlock() }
        return accumulators.map { accumulator in
            DomainEnergy(domain: accumulator.domain, microjoules: accumulator.microjoules, wraps: accumulator.wraps,
                         faults: recordedFaults.filter { $0.domainID == accumulator.domain.id })
        }
    }

    public func samples() -> [EnergySample] {
        lock.lock()
        defer { lock.unlock() }
        return recordedSamples
    }

    public func faults() -> [SamplerFault] {
        lock.lock()
        defer { lock.unlock() }
        return recordedFaults
    }

    public func phaseMarks() -> [PhaseMark] {
        lock.lock()
        defer { lock.unlock() }
        return marks
    }

    /// µJ per domain between two marks (e.g. measure -> cool-down).
    public func microjoules(from start: PhaseMark, to end: PhaseMark) -> [String: UInt64] {
        lock.lock()
        defer { lock.unlock() }
        let first = recordedSamples[start.sampleIndex].cumulativeMicrojoules
        let last = recordedSamples[end.sampleIndex].cumulativeMicrojoules
        var result: [String: UInt64] = [:]
        for (index, domain) in domains.enumerated() {
            result[domain.id] = last[index] >= first[index] ? last[index] - first[index] : 0
        }
        return result
    }
}
