import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Waiting between samples of the protocol (idle baseline, cool-down). Tests substitute a pacer that
/// moves a manual clock instead of sleeping.
public protocol RunPacer: AnyObject {
    func pause(nanoseconds: UInt64)
}

public final class SleepingPacer: RunPacer {
    public init() {}
    public func pause(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// A request to stop the run at the next safe point, with the reason recorded in the run.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var storedReason: String?

    public init() {}

    public func request(_ reason: String) {
        lock.lock()
        if storedReason == nil { storedReason = reason }
        lock.unlock()
    }

    public var reason: String? {
        lock.lock()
        defer { lock.unlock() }
        return storedReason
    }
}

/// Turns SIGINT/SIGTERM into a `StopRequest` (handled on a dispatch queue, not in a signal handler),
/// so the run finishes its current write and leaves a valid partial run. A second signal exits at
/// once; the raw files are always whole because every write is atomic.
public final class SignalStop {
    private var sources: [DispatchSourceSignal] = []

    public init(stop: StopRequest, signals: [Int32] = [SIGINT, SIGTERM], secondSignalExits: Bool = true) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.reason != nil {
                    if secondSignalExits { _exit(130) }
                    return
                }
                let name = number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
                stop.request("interrupted by \(name)")
                FileHandle.standardError.write(Data(
                    "\n\(name): stopping after the current write (again to quit at once)\n".utf8))
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
