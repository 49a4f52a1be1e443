#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A source of monotonic nanoseconds; injectable so tests drive the sampler without sleeping.
public protocol MonotonicClock: Sendable {
    func nanoseconds() -> UInt64
}

/// CLOCK_MONOTONIC: unaffected by wall-clock changes.
public struct SystemMonotonicClock: MonotonicClock {
    public init() {}
    public func nanoseconds() -> UInt64 { clockNanoseconds(CLOCK_MONOTONIC) }
}

/// CPU time consumed by the calling thread (CLOCK_THREAD_CPUTIME_ID).
public func currentThreadCPUNanoseconds() -> UInt64 { clockNanoseconds(CLOCK_THREAD_CPUTIME_ID) }

/// CPU time consumed by the whole process (CLOCK_PROCESS_CPUTIME_ID).
public func processCPUNanoseconds() -> UInt64 { clockNanoseconds(CLOCK_PROCESS_CPUTIME_ID) }

func clockNanoseconds(_ clock: clockid_t) -> UInt64 {
    var time = timespec()
    clock_gettime(clock, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
