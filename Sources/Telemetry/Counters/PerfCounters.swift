/// Performance counters for this process, from libpfm4 event strings.
///
/// Scope: pid 0, cpu -1 with inherit=1, so a counter covers the calling process and every thread
/// (and child) created *after* it was opened; threads that already existed are not counted. Open the
/// set before starting the inference thread pool. Read with TOTAL_TIME_ENABLED|RUNNING and scaled
/// for multiplexing.
public final class PerfCounterSet: @unchecked Sendable {
    /// Hardware events where the PMU has them, plus the software events that always exist.
    public static let defaultEvents: [String] = [
        "cycles", "instructions",
        "perf::PERF_COUNT_HW_CACHE_REFERENCES", "perf::PERF_COUNT_HW_CACHE_MISSES",
        "perf::PERF_COUNT_HW_BRANCH_MISSES", "perf::PERF_COUNT_HW_CACHE_LL:READ:MISS",
        // FLOPs on Intel (Broadwell and later); other PMUs do not encode these and say so.
        "FP_ARITH_INST_RETIRED:SCALAR_SINGLE", "FP_ARITH_INST_RETIRED:SCALAR_DOUBLE",
        "FP_ARITH_INST_RETIRED:128B_PACKED_SINGLE", "FP_ARITH_INST_RETIRED:256B_PACKED_SINGLE",
        "perf::PERF_COUNT_SW_TASK_CLOCK", "perf::PERF_COUNT_SW_CONTEXT_SWITCHES", "perf::PERF_COUNT_SW_PAGE_FAULTS",
    ]

    /// Whether one event can be counted here, and if not, why.
    public enum Availability: Hashable, Sendable {
        case open(encoding: PfmEncoder.Encoding)
        case notEncodable(message: String)
        case notOpened(errno: Int32, reason: String, fix: String)

        public var isOpen: Bool {
            if case .open = self { return true }
            return false
        }
    }

    public struct Counter: Sendable {
        public let event: String
        public let availability: Availability
        fileprivate let file: PerfEventFile?
    }

    /// One counter's value; `value` is nil whenever the counter cannot honestly give a number.
    public struct Reading: Hashable, Sendable {
        public let event: String
        public let count: PerfCount?
        public let availability: Availability
        /// Multiplex-scaled value; nil if unavailable or never scheduled.
        public var value: Double? { count?.scaledValue }
        /// Why there is no value.
        public var unavailableReason: String? {
            switch availability {
            case let .notEncodable(message): return "not encodable by libpfm4: \(message)"
            case let .notOpened(_, reason, _): return reason
            case .open:
                if count == nil { return "read failed" }
                if count?.scaledValue == nil { return "opened but never scheduled on a PMU (time running 0)" }
                return nil
            }
        }
    }

    public let counters: [Counter]

    /// Encodes and opens every event (disabled); failures are kept per event, never thrown.
    public init(events: [String] = PerfCounterSet.defaultEvents, inheritToNewThreads: Bool = true) {
        counters = events.map { event in
            let encoding: PfmEncoder.Encoding
            do {
                encoding = try PfmEncoder.encode(event)
            } catch let error as PfmEncoder.EncodeError {
                return Counter(event: event, availability: .notEncodable(message: error.message), file: nil)
            } catch {
                return Counter(event: event, availability: .notEncodable(message: "\(error)"), file: nil)
            }
            do {
                let file = try PerfEventFile(encoding.attributes, pid: 0, cpu: -1, inherit: inheritToNewThreads,
                                             withTimes: true, startDisabled: true)
                return Counter(event: event, availability: .open(encoding: encoding), file: file)
            } catch let error as PerfOpenError {
                return Counter(event: event, availability: .notOpened(errno: error.errno, reason: error.reason,
                                                                     fix: error.fix), file: nil)
            } catch {
                return Counter(event: event, availability: .notOpened(errno: 0, reason: "\(error)", fix: ""), file: nil)
            }
        }
    }

    public func start() { counters.forEach { $0.file?.reset(); $0.file?.enable() } }
    public func stop() { counters.forEach { $0.file?.disable() } }

    public func read() -> [Reading] {
        counters.map { counter in
            let count = counter.file.flatMap { try? $0.read().get() }
            return Reading(event: counter.event, count: count, availability: counter.availability)
        }
    }
}
