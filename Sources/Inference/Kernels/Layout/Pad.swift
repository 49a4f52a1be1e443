extension LayoutKernels {
    /// PAD: the output is filled with `padValue` (one element's bytes: 0.0 for floats, the zero point for
    /// quantized tensors), then the input is copied in at offset `before[d]` along each dimension.
    public static func pad(_ input: UnsafeRawPointer, inputShape: [Int], before: [Int], after: [Int],
                           padValue: [UInt8], output: UnsafeMutableRawPointer) {
        let elementSize = padValue.count
        let outputShape = zip(inputShape, zip(before, after)).map { $0 + $1.0 + $1.1 }
        let outputCount = outputShape.reduce(1, *)
        padValue.withUnsafeBytes { pattern in
            for i in 0..<outputCount {
                (output + i * elementSize).copyMemory(from: pattern.baseAddress!, byteCount: elementSize)
            }
        }
        guard inputShape.reduce(1, *) > 0 else { return }
        let rank = inputShape.count
        guard rank > 0 else {
            output.copyMemory(from: input, byteCount: elementSize)
            return
        }
        var outputStrides = [Int](repeating: elementSize, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) {
            outputStrides[d] = outputStrides[d + 1] * outputShape[d + 1]
        }
        let rowBytes = inputShape[rank - 1] * elementSize
        var read = 0
        func copy(_ d: Int, _ base: Int) {
            let position = base + before[d] * outputStrides[d]
            if d == rank - 1 {
                (output + position).copyMemory(from: input + read, byteCount: rowBytes)
                read += rowBytes
                return
            }
            for i in 0..<inputShape[d] { copy(d + 1, position + i * outputStrides[d]) }
        }
        copy(0, 0)
    }
}
