/// Performance counters turned into per-inference figures. An event that could not be counted stays
/// unavailable with its reason; it is never shown as 0.
public struct CounterMetrics: Codable, Hashable, Sendable {
    public var instructionsPerInference: MaybeValue
    public var cyclesPerInference: MaybeValue
    public var instructionsPerCycle: MaybeValue
    public var cacheReferencesPerInference: MaybeValue
    public var cacheMissesPerInference: MaybeValue
    public var lastLevelCacheReadMissesPerInference: MaybeValue
    public var branchMissesPerInference: MaybeValue
    /// Single- and double-precision FP operations retired (Intel FP_ARITH events, packed widths
    /// weighted by lanes); unavailable on PMUs without them.
    public var floatingPointOperationsPerInference: MaybeValue
    public var taskClockMillisecondsPerInference: MaybeValue
    /// Every recorded event, per inference.
    public var events: [String: MaybeValue]

    static let flopWeights: [(String, Double)] = [
        ("FP_ARITH_INST_RETIRED:SCALAR_SINGLE", 1), ("FP_ARITH_INST_RETIRED:SCALAR_DOUBLE", 1),
        ("FP_ARITH_INST_RETIRED:128B_PACKED_SINGLE", 4), ("FP_ARITH_INST_RETIRED:256B_PACKED_SINGLE", 8),
    ]

    public init(counters: [CounterRecord], inferences: Int) {
        func perInference(_ event: String) -> MaybeValue {
            guard let counter = counters.first(where: { $0.event == event }) else {
                return .unavailable("\(event) was not recorded")
            }
            guard let value = counter.value else { return .unavailable(counter.unavailableReason ?? "unavailable") }
            guard inferences > 0 else { return .unavailable("no inferences") }
            return MaybeValue(value / Double(inferences))
        }
        instructionsPerInference = perInference("instructions")
        cyclesPerInference = perInference("cycles")
        if let instructions = instructionsPerInference.value, let cycles = cyclesPerInference.value, cycles > 0 {
            instructionsPerCycle = MaybeValue(instructions / cycles)
        } else {
            instructionsPerCycle = .unavailable(instructionsPerInference.unavailableReason
                                                ?? cyclesPerInference.unavailableReason ?? "0 cycles counted")
        }
        cacheReferencesPerInference = perInference("perf::PERF_COUNT_HW_CACHE_REFERENCES")
        cacheMissesPerInference = perInference("perf::PERF_COUNT_HW_CACHE_MISSES")
        lastLevelCacheReadMissesPerInference = perInference("perf::PERF_COUNT_HW_CACHE_LL:READ:MISS")
        branchMissesPerInference = perInference("perf::PERF_COUNT_HW_BRANCH_MISSES")
        let flopParts = Self.flopWeights.map { (perInference($0.0), $0.1) }
        if let missing = flopParts.first(where: { $0.0.value == nil }) {
            floatingPointOperationsPerInference = .unavailable(missing.0.unavailableReason!)
        } else {
            floatingPointOperationsPerInference = MaybeValue(flopParts.reduce(0) { $0 + $1.0.value! * $1.1 })
        }
        // perf reports task-clock in ns.
        let taskClock = perInference("perf::PERF_COUNT_SW_TASK_CLOCK")
        taskClockMillisecondsPerInference = taskClock.value.map { MaybeValue($0 / 1e6) } ?? taskClock
        var events: [String: MaybeValue] = [:]
        for counter in counters { events[counter.event] = perInference(counter.event) }
        self.events = events
    }

    /// Mean of each metric across repetitions (over those that have it).
    public static func mean(_ all: [CounterMetrics]) -> CounterMetrics? {
        guard var result = all.first else { return nil }
        func average(_ path: WritableKeyPath<CounterMetrics, MaybeValue>) {
            let values = all.compactMap { $0[keyPath: path].value }
            result[keyPath: path] = values.isEmpty ? all[0][keyPath: path]
                : MaybeValue(values.reduce(0, +) / Double(values.count))
        }
        average(\.instructionsPerInference)
        average(\.cyclesPerInference)
        average(\.instructionsPerCycle)
        average(\.cacheReferencesPerInference)
        average(\.cacheMissesPerInference)
        average(\.lastLevelCacheReadMissesPerInference)
        average(\.branchMissesPerInference)
        average(\.floatingPointOperationsPerInference)
        average(\.taskClockMillisecondsPerInference)
        for event in result.events.keys {
            let values = all.compactMap { $0.events[event]?.value }
            if !values.isEmpty { result.events[event] = MaybeValue(values.reduce(0, +) / Double(values.count)) }
        }
        return result
    }
}
