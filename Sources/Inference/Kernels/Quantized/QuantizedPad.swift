// PAD (reference_ops::Pad): copies the input into the middle of the output and fills the border with
// a pad value; for quantized tensors without an explicit constant that value is the output zero
// point, i.e. real 0.

extension Quantized {
    /// `paddings[d]` = (before, after) for every input dimension d; works for any element type.
    public static func pad<T>(
        _ input: UnsafeBufferPointer<T>, inputShape: [Int], paddings: [(before: Int, after: Int)],
        padValue: T, output: UnsafeMutableBufferPointer<T>
    ) throws {
        guard paddings.count == inputShape.count, !inputShape.isEmpty,
              paddings.allSatisfy({ $0.before >= 0 && $0.after >= 0 }) else {
            throw KernelError("PAD: paddings \(paddings.map { [$0.before, $0.after] }) do not fit input \(inputShape) or are negative")
        }
        let outputShape = zip(inputShape, paddings).map { $0 + $1.before + $1.after }
        try requireCount(input, inputShape.reduce(1, *), "PAD input")
        try requireCount(output, outputShape.reduce(1, *), "PAD output")
        output.initialize(repeating: padValue)
        guard input.count > 0 else { return }
        let rank = inputShape.count
        // Output strides, so an input element (i0, ..., in) lands at sum (i_d + before_d) * stride_d.
        var outputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            outputStrides[axis] = outputStrides[axis + 1] * outputShape[axis + 1]
        }
        let start = zip(paddings, outputStrides).reduce(0) { $0 + $1.0.before * $1.1 }
        // Copy whole innermost rows; walk the outer dimensions with an odometer.
        let rowLength = inputShape[rank - 1]
        let rows = input.count / rowLength
        var counter = [Int](repeating: 0, count: max(rank - 1, 0))
        var outputRowStart = start
        for row in 0..<rows {
            let inputRowStart = row * rowLength
            for i in 0..<rowLength { output[outputRowStart + i] = input[inputRowStart + i] }
            var axis = rank - 2
            while axis >= 0 {
                counter[axis] += 1
                outputRowStart += outputStrides[axis]
                if counter[axis] < inputShape[axis] { break }
                outputRowStart -= outputStrides[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
    }
}
