import Synchronization

/// Band buffers of the fused float chains, shared by every chain of every interpreter in the process.
/// A chain borrows one block for a run and gives it back, so the process holds (chains running at the
/// same moment) blocks of the largest size, not one per chain: each chain's buffers are only briefly
/// in use, and one per chain would add up to several MB.
public final class FloatChainScratch: Sendable {
    public static let shared = FloatChainScratch()

    private struct State {
        var idle: [PackedBuffer] = []
        /// The most any chain created so far borrows: new blocks get this size at once, rather than
        /// growing chain by chain during the first run (each growth a new block while the old is held).
        var largest = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Makes blocks allocated from now on hold at least `floatCount` floats (chains call it when created).
    func reserve(floatCount: Int) {
        state.withLock { $0.largest = max($0.largest, floatCount) }
    }

    /// Calls `body` with at least `floatCount` floats (64-byte aligned) that nothing else uses meanwhile.
    /// Allocates only when no idle block is large enough (the first run, or a larger chain created since).
    func withBlock<R>(floatCount: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let (reused, largest) = state.withLock { ($0.idle.popLast(), $0.largest) }
        let block = reused.flatMap { $0.count >= floatCount ? $0 : nil }
            ?? PackedBuffer(floatCount: max(floatCount, largest))
        defer { state.withLock { $0.idle.append(block) } }
        return body(block.floats)
    }

    /// Floats held by idle blocks (tests check that runs reuse blocks rather than add them).
    var idleFloatCount: Int { state.withLock { $0.idle.reduce(0) { $0 + $1.count } } }
}
