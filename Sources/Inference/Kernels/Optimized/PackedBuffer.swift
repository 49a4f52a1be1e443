/// Memory owned by one optimized kernel (packed weights, im2col scratch), freed with the kernel closure.
final class PackedBuffer: @unchecked Sendable {
    let floats: UnsafeMutablePointer<Float>
    let count: Int

    init(floatCount: Int) {
        count = max(floatCount, 1)
        // 64-byte alignment: every packed panel starts on a cache line.
        floats = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        floats.initialize(repeating: 0, count: count)
    }

    deinit { floats.deallocate() }
}
