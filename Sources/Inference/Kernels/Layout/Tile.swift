extension LayoutKernels {
    /// TILE: output dimension d is the input's repeated `multiples[d]` times, outermost dimension first.
    public static func tile(_ input: UnsafeRawPointer, shape: [Int], multiples: [Int], elementSize: Int,
                            output: UnsafeMutableRawPointer) {
        guard !shape.isEmpty else {
            output.copyMemory(from: input, byteCount: elementSize)
            return
        }
        _ = tileDimension(0, input, shape: shape, multiples: multiples, elementSize: elementSize, output: output)
    }

    /// Writes the tiled block of dimension `d` and returns the bytes written.
    private static func tileDimension(_ d: Int, _ input: UnsafeRawPointer, shape: [Int], multiples: [Int],
                                      elementSize: Int, output: UnsafeMutableRawPointer) -> Int {
        let innerInputBytes = shape[(d + 1)...].reduce(elementSize, *)
        var written = 0
        if d == shape.count - 1 {
            let rowBytes = shape[d] * elementSize
            output.copyMemory(from: input, byteCount: rowBytes)
            written = rowBytes
        } else {
            for i in 0..<shape[d] {
                written += tileDimension(d + 1, input + i * innerInputBytes, shape: shape, multiples: multiples,
                                         elementSize: elementSize, output: output + written)
            }
        }
        // Repeat the block just written multiples[d] - 1 more times.
        for r in 1..<max(multiples[d], 1) {
            (output + r * written).copyMemory(from: output, byteCount: written)
        }
        return written * max(multiples[d], 0)
    }
}
