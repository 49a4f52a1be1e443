extension FloatKernels {
    /// MEAN over the axes in `reduced` (a flag per input dimension): each output is the float sum of its
    /// inputs, visited in row-major order, divided by their count — reference_ops::Mean's arithmetic.
    public static func mean(_ input: UnsafePointer<Float>, inputShape: [Int], reduced: [Bool],
                            output: UnsafeMutablePointer<Float>) {
        let rank = inputShape.count
        // Output strides per input dimension; 0 on reduced axes so their elements land together.
        var outputStrides = [Int](repeating: 0, count: rank)
        var step = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) where !reduced[axis] {
            outputStrides[axis] = step
            step *= inputShape[axis]
        }
        let outputCount = step
        let inputCount = inputShape.reduce(1, *)
        let reducedCount = inputCount / max(outputCount, 1)
        output.update(repeating: 0, count: outputCount)
        guard inputCount > 0 else { return }
        var index = [Int](repeating: 0, count: rank)
        var outputOffset = 0
        for i in 0..<inputCount {
            output[outputOffset] += input[i]
            // Odometer increment over the input index, tracking the output offset.
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                outputOffset += outputStrides[axis]
                if index[axis] < inputShape[axis] { break }
                outputOffset -= outputStrides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        let divisor = Float(reducedCount)
        for o in 0..<outputCount { output[o] = output[o] / divisor }
    }
}
