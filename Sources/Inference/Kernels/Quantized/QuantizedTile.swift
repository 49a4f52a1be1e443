// TILE (reference tile.cc): repeats the input `multiples[d]` times along every dimension d. Element
// copies only, so the same code serves every element type and keeps the quantization.

extension Quantized {
    public static func tile<T>(
        _ input: UnsafeBufferPointer<T>, inputShape: [Int], multiples: [Int], output: UnsafeMutableBufferPointer<T>
    ) throws {
        guard multiples.count == inputShape.count, multiples.allSatisfy({ $0 >= 0 }) else {
            throw KernelError("TILE: multiples \(multiples) do not fit input \(inputShape)")
        }
        try requireCount(input, inputShape.reduce(1, *), "TILE input")
        let outputShape = zip(inputShape, multiples).map(*)
        try requireCount(output, outputShape.reduce(1, *), "TILE output")
        guard !inputShape.isEmpty else {
            if output.count == 1 { output[0] = input[0] }
            return
        }
        // Output index -> input index: each coordinate modulo the input's size.
        let rank = inputShape.count
        var inputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            inputStrides[axis] = inputStrides[axis + 1] * inputShape[axis + 1]
        }
        var counter = [Int](repeating: 0, count: rank)
        var inputIndex = 0
        for outputIndex in 0..<output.count {
            output[outputIndex] = input[inputIndex]
            var axis = rank - 1
            while axis >= 0 {
                counter[axis] += 1
                if counter[axis] < outputShape[axis] {
                    if counter[axis] % inputShape[axis] == 0 {
                        inputIndex -= (inputShape[axis] - 1) * inputStrides[axis]
                    } else {
                        inputIndex += inputStrides[axis]
                    }
                    break
                }
                inputIndex -= ((counter[axis] - 1) % inputShape[axis]) * inputStrides[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
    }
}
