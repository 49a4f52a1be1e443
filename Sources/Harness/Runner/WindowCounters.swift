import Telemetry

/// Performance counters over each measured window.
public protocol WindowCounters: AnyObject {
    func start()
    func stop()
    func read() -> [CounterRecord]
}

/// The process's perf counters (Telemetry.PerfCounterSet). Open it before the inference thread pool
/// exists: only threads created after opening are counted.
public final class PerfWindowCounters: WindowCounters {
    private let set: PerfCounterSet

    public init(events: [String] = PerfCounterSet.defaultEvents) {
        set = PerfCounterSet(events: events)
    }

    public func start() { set.start() }
    public func stop() { set.stop() }
    public func read() -> [CounterRecord] {
        set.read().map { CounterRecord(event: $0.event, value: $0.value, unavailableReason: $0.unavailableReason) }
    }
}
