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
    /// kernels that pay a start-up cost per range (a fused 8-bit chain recomputes the rows its first band
    /// shares with the range before).
    public func run(_ count: Int, rangesPerThread: Int = TileRunner.rangesPerThread, _ body: (Int, Int) -> Void) {
        run(count, rangesPerThread: rangesPerThread) { begin, end, _ in body(begin, end) }
    }

    /// `run(_:rangesPerThread:_:)` whose body also gets the slot (0..<threads) of the thread running the
    /// range. Each slot runs its own ranges in increasing order, then ranges taken from the ends of the
    /// others' runs; one slot never runs two ranges at once. Inline (one thread, or the pool busy)
    /// everything runs in order on slot 0.
    public func run(_ count: Int, rangesPerThread: Int, bySlot body: (_ begin: Int, _ end: Int, _ slot: Int) -> Void) {
        let parts = rangeCount(count, rangesPerThread: rangesPerThread)
        if parts <= 1 {
            if count > 0 { body(0, count, 0) }
            return
        }
        func range(_ part: Int, slot: Int) { body(part * count / parts, (part + 1) * count / parts, slot) }
        // The pool is busy when another interpreter uses it at the same moment or a body itself splits
        // work: run the same ranges here rather than wait.
        if pool?.run(parts: parts, range) != true {
            for part in 0..<parts { range(part, slot: 0) }
        }
    }
}
