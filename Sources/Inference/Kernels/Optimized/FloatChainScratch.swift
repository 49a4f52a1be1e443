import Synchronization

/// Band buffers of the fused float chains, shared by every chain of every interpreter in the process.
/// A chain borrows one block for a run and gives it back, so the process holds (chains running at the
/// same moment) blocks of the largest size, not one per chain: the 33 chains of the person model would
/// otherwise keep tens of MB, each block only briefly in use.
public final class FloatChainScratch: Sendable {
    public static let shared = FloatChainScratch()

    private let idle = Mutex<[PackedBuffer]>([])

    /// Calls `body` with at least `floatCount` floats (64-byte aligned) that nothing else uses meanwhile.
    /// Allocates only when no idle block is large enough (the first runs), then keeps the larger block.
    func withBlock<R>(floatCount: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        var block = idle.withLock { $0.popLast() }
        if block.map({ $0.count < floatCount }) ?? true { block = PackedBuffer(floatCount: floatCount) }
        let borrowed = block!
        defer { idle.withLock { $0.append(borrowed) } }
        return body(borrowed.floats)
    }

    /// Floats held by idle blocks (tests check the pool does not grow with each run).
    var idleFloatCount: Int { idle.withLock { $0.reduce(0) { $0 + $1.count } } }
}
