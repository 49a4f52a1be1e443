extension LayoutKernels {
    /// CONCATENATION (and PACK, which is a concatenation along a new axis of size 1): for each index
    /// before `axis`, copies each input's contiguous block in input order. `blockBytes[i]` is input i's
    /// size from `axis` inwards, in bytes.
    public static func concatenate(_ inputs: [UnsafeRawPointer], blockBytes: [Int], outerCount: Int,
                                   output: UnsafeMutableRawPointer) {
        var out = output
        for outer in 0..<outerCount {
            for (input, bytes) in zip(inputs, blockBytes) {
                out.copyMemory(from: input + outer * bytes, byteCount: bytes)
                out += bytes
            }
        }
    }
}
