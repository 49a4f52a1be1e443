/// Owns the aligned memory of constant and folded tensors; everything is freed with the owner.
final class TensorMemory: @unchecked Sendable {
    private var allocations: [UnsafeMutableRawPointer: Int] = [:]

    func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        allocations[pointer] = byteCount
        return pointer
    }

    func copy(_ bytes: ArraySlice<UInt8>) -> UnsafeMutableRawPointer {
        let pointer = allocate(byteCount: bytes.count)
        bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return pointer
    }

    func release(_ pointer: UnsafeMutableRawPointer) {
        if allocations.removeValue(forKey: pointer) != nil { pointer.deallocate() }
    }

    /// Bytes currently held (constants after folding).
    var totalBytes: Int { allocations.values.reduce(0, +) }

    deinit {
        for pointer in allocations.keys { pointer.deallocate() }
    }
}
