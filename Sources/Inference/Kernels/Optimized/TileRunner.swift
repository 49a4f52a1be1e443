/// Splits a kernel's independent work units (output tiles or rows) into contiguous ranges run on the
/// process-wide `WorkerPool` for that thread count. The ranges depend only on `count` and `threads`,
/// never on which thread runs them, so results do not depend on timing.
public struct TileRunner: Sendable {
    /// Ranges per thread: enough that a thread that finishes early (its tiles were cheaper, or its
    /// partner woke late or was descheduled) can take over a small share of the rest, few enough that
    /// the per-range cost (a compare-exchange and a kernel call) stays small.
    public static let rangesPerThread = 8

    /// Element-wise operators (an 8-bit table read or one float operation per element, ~0.3-1 ns) below
    /// this many elements run on one thread: handing work to the pool and waiting for it costs ~1 µs.
    public static let smallestElementwiseSplit = 16_384

    public let threads: Int
    let pool: WorkerPool?

    public init(threads: Int) {
        self.threads = min(max(1, threads), WorkerPool.maximumThreads)
        pool = self.threads > 1 ? WorkerPool.shared(threads: self.threads) : nil
    }

    /// How many ranges `run` splits `count` units into.
    public func rangeCount(_ count: Int, rangesPerThread: Int = TileRunner.rangesPerThread) -> Int {
        threads == 1 ? min(count, 1) : min(count, threads * max(1, rangesPerThread))
    }

    /// Calls `body(begin, end)` for the ranges [r * count / n, (r + 1) * count / n) with r in [0, n) and
    /// n = rangeCount(count, rangesPerThread:); returns when all are done. Fewer ranges per thread suit
    /// kernels that pay a start-up cost per range (fused chains recompute the rows their first band
    /// shares with the range before).
    public func run(_ count: Int, rangesPerThread: Int = TileRunner.rangesPerThread, _ body: (Int, Int) -> Void) {
        let parts = rangeCount(count, rangesPerThread: rangesPerThread)
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
