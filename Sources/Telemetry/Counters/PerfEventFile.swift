import CPerfEvent
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What to open with perf_event_open, in the kernel's terms.
public struct PerfEventAttributes: Hashable, Sendable, Codable {
    public var type: UInt32
    public var config: UInt64
    public var config1: UInt64 = 0
    public var config2: UInt64 = 0
    public var excludeUser = false
    public var excludeKernel = false
    public var excludeHypervisor = false

    public init(type: UInt32, config: UInt64, config1: UInt64 = 0, config2: UInt64 = 0,
                excludeUser: Bool = false, excludeKernel: Bool = false, excludeHypervisor: Bool = false) {
        self.type = type
        self.config = config
        self.config1 = config1
        self.config2 = config2
        self.excludeUser = excludeUser
        self.excludeKernel = excludeKernel
        self.excludeHypervisor = excludeHypervisor
    }
}

/// A counter value with the times perf reports for multiplexing.
public struct PerfCount: Hashable, Sendable, Codable {
    public let rawValue: UInt64
    public let timeEnabledNanoseconds: UInt64
    public let timeRunningNanoseconds: UInt64

    /// The value extrapolated to the whole enabled time (perf's own scaling when counters are
    /// multiplexed); nil when the counter never ran, which is "unknown", not zero.
    public var scaledValue: Double? {
        guard timeRunningNanoseconds > 0 else { return nil }
        if timeRunningNanoseconds >= timeEnabledNanoseconds { return Double(rawValue) }
        return Double(rawValue) * Double(timeEnabledNanoseconds) / Double(timeRunningNanoseconds)
    }

    public var wasMultiplexed: Bool { timeRunningNanoseconds < timeEnabledNanoseconds }
}

/// Why a perf event could not be opened.
public struct PerfOpenError: Error, Hashable, Sendable, CustomStringConvertible {
    public let errno: Int32
    public let reason: String
    public let fix: String
    public var description: String { "\(reason); fix: \(fix)" }
}

/// One open perf event file descriptor. Closed on deinit.
public final class PerfEventFile: @unchecked Sendable {
    public let descriptor: Int32
    public let withTimes: Bool

    /// `pid` 0 = this process, -1 = every process (needs a `cpu`); `cpu` -1 = any CPU.
    public init(_ attributes: PerfEventAttributes, pid: Int32, cpu: Int32, inherit: Bool, withTimes: Bool,
                startDisabled: Bool = false) throws {
        var spec = cperf_event_spec()
        spec.type = attributes.type
        spec.config = attributes.config
        spec.config1 = attributes.config1
        spec.config2 = attributes.config2
        spec.exclude_user = attributes.excludeUser ? 1 : 0
        spec.exclude_kernel = attributes.excludeKernel ? 1 : 0
        spec.exclude_hv = attributes.excludeHypervisor ? 1 : 0
        spec.inherit = inherit ? 1 : 0
        spec.start_disabled = startDisabled ? 1 : 0
        spec.with_times = withTimes ? 1 : 0
        var code: Int32 = 0
        let fd = cperf_event_open(&spec, pid, cpu, -1, UInt(PERF_FLAG_FD_CLOEXEC_VALUE), &code)
        guard fd >= 0 else {
            let explained = Remedy.perfOpenFailure(errno: code, paranoid: PerfEventFile.paranoidLevel())
            throw PerfOpenError(errno: code, reason: explained.reason, fix: explained.fix)
        }
        descriptor = fd
        self.withTimes = withTimes
    }

    deinit { close(descriptor) }

    public func enable() { _ = cperf_event_enable(descriptor) }
    public func disable() { _ = cperf_event_disable(descriptor) }
    public func reset() { _ = cperf_event_reset(descriptor) }

    /// Reads the counter; `errno` of a failed read() on failure.
    public func read() -> Result<PerfCount, SysfsReadError> {
        var words = [UInt64](repeating: 0, count: 3)
        let wanted = withTimes ? 24 : 8
        let got = words.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
        guard got == wanted else {
            return .failure(.ioError(path: "perf event fd \(descriptor)", errno: got < 0 ? errno : EIO))
        }
        return .success(PerfCount(rawValue: words[0], timeEnabledNanoseconds: withTimes ? words[1] : 0,
                                  timeRunningNanoseconds: withTimes ? words[2] : 0))
    }

    /// /proc/sys/kernel/perf_event_paranoid of the running kernel, for messages.
    public static func paranoidLevel() -> Int64? {
        try? SysfsReader().readInteger("/proc/sys/kernel/perf_event_paranoid")
    }
}

/// PERF_FLAG_FD_CLOEXEC (linux/perf_event.h), so counters do not leak into child processes.
private let PERF_FLAG_FD_CLOEXEC_VALUE: UInt = 1 << 3
