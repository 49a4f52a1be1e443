/// Splits a kernel's independent work units (output tiles or rows) into one contiguous range per
/// thread, run on the process-wide `WorkerPool` for that thread count. The ranges depend only on
/// `count` and `threads`, never on which thread runs them, so results do not depend on timing.
public struct TileRunner: Sendable {
    public let threads: Int
    let pool: WorkerPool?

    public init(threads: Int) {
        self.threads = min(max(1, threads), WorkerPool.maximumThreads)
        pool = self.threads > 1 ? WorkerPool.shared(threads: self.threads) : nil
    }

    /// Calls `body(begin, end)` over [0, count) split into at most `threads` ranges; returns when all are done.
    public func run(_ count: Int, _ body: (Int, Int) -> Void) {
        let parts = min(threads, count)
        if parts <= 1 {
            if count > 0 { body(0, count) }
            return
        }
        func range(_ part: Int) { body(part * count / parts, (part + 1) * count / parts) }
        // The pool is busy when another interpreter uses it at the same moment or a body itself splits
        // work: run the same ranges here rather than wait.
        if pool?.run(parts: parts, range) != true {
            for part in 0..<parts { range(part) }
        }
    }
}
