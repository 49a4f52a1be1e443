import Dispatch

/// Splits a kernel's independent work units (output tiles or rows) into one contiguous range per
/// thread. GCD's pool threads persist between calls, so no thread is created per invocation.
public struct TileRunner: Sendable {
    public let threads: Int

    public init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// Calls `body(begin, end)` over [0, count) split into at most `threads` ranges; returns when all are done.
    public func run(_ count: Int, _ body: (Int, Int) -> Void) {
        let parts = min(threads, count)
        if parts <= 1 {
            if count > 0 { body(0, count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            body(part * count / parts, (part + 1) * count / parts)
        }
    }
}
