// CONV_2D on 8-bit tensors: reference_ops::Conv (uint8, per-tensor) and
// reference_integer_ops::ConvPerChannel (int8). Both accumulate
// (filter + filterOffset) * (input + inputOffset) in int32, add the int32 bias, rescale per output
// channel, add the output zero point and clamp; out-of-image taps are skipped, i.e. they count as
// the input zero point.

extension Quantized {
    /// input [N, H, W, C], filter [OC, KH, KW, C / groups], bias [OC] or nil, output [N, OH, OW, OC].
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func conv2D<T: Element>(
        input: UnsafeBufferPointer<T>, inputShape: [Int],
        filter: UnsafeBufferPointer<T>, filterShape: [Int],
        bias: UnsafeBufferPointer<Int32>?,
        output: UnsafeMutableBufferPointer<T>, outputShape: [Int],
        params: ConvParams
    ) throws {
        try checkConv2D(inputShape: inputShape, filterShape: filterShape, outputShape: outputShape, params: params)
        try requireCount(input, inputShape.reduce(1, *), "CONV_2D input")
        try requireCount(filter, filterShape.reduce(1, *), "CONV_2D filter")
        try requireCount(output, outputShape.reduce(1, *), "CONV_2D output")
        if let bias { try requireCount(bias, filterShape[0], "CONV_2D bias") }
        conv2DUnchecked(input: input, inputShape: inputShape, filter: filter, filterShape: filterShape,
                        bias: bias, output: output, outputShape: outputShape, params: params)
    }

    /// The shape and parameter checks of conv2D, for callers that check once and run many times.
    public static func checkConv2D(inputShape: [Int], filterShape: [Int], outputShape: [Int], params: ConvParams) throws {
        try requireRank(inputShape, 4, "CONV_2D input")
        try requireRank(filterShape, 4, "CONV_2D filter")
        try requireRank(outputShape, 4, "CONV_2D output")
        let batches = inputShape[0], inputDepth = inputShape[3]
        let outputDepth = filterShape[0], filterDepth = filterShape[3]
        guard filterDepth > 0, inputDepth % filterDepth == 0, outputDepth % (inputDepth / filterDepth) == 0 else {
            throw KernelError("CONV_2D: filter depth \(filterDepth) does not divide input depth \(inputDepth) into groups")
        }
        guard outputShape[0] == batches, outputShape[3] == outputDepth else {
            throw KernelError("CONV_2D: output \(outputShape) does not match input \(inputShape) and filter \(filterShape)")
        }
        guard params.outputMultipliers.count == outputDepth else {
            throw KernelError("CONV_2D: \(params.outputMultipliers.count) output multipliers for \(outputDepth) channels")
        }
    }

    /// conv2D without its checks: the caller has run checkConv2D and sized the buffers from the shapes.
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    static func conv2DUnchecked<T: Element>(
        input: UnsafeBufferPointer<T>, inputShape: [Int],
        filter: UnsafeBufferPointer<T>, filterShape: [Int],
        bias: UnsafeBufferPointer<Int32>?,
        output: UnsafeMutableBufferPointer<T>, outputShape: [Int],
        params: ConvParams
    ) {
        let batches = inputShape[0], inputHeight = inputShape[1], inputWidth = inputShape[2]
        let inputDepth = inputShape[3]
        let outputDepth = filterShape[0], filterHeight = filterShape[1], filterWidth = filterShape[2]
        let filterDepth = filterShape[3]
        let outputHeight = outputShape[1], outputWidth = outputShape[2]
        let filtersPerGroup = outputDepth / (inputDepth / filterDepth)
        let inputOffset = params.inputOffset, filterOffset = params.filterOffset
        let outputOffset = params.outputOffset
        let low = params.activation.minimum, high = params.activation.maximum
        params.outputMultipliers.withUnsafeBufferPointer { multipliers in
            var outputIndex = 0
            for batch in 0..<batches {
                for outY in 0..<outputHeight {
                    let originY = outY * params.strideHeight - params.paddingHeight
                    for outX in 0..<outputWidth {
                        let originX = outX * params.strideWidth - params.paddingWidth
                        for outChannel in 0..<outputDepth {
                            let inputChannelStart = (outChannel / filtersPerGroup) * filterDepth
                            var accumulator: Int32 = 0
                            for filterY in 0..<filterHeight {
                                let inY = originY + params.dilationHeight * filterY
                                if inY < 0 || inY >= inputHeight { continue }
                                for filterX in 0..<filterWidth {
                                    let inX = originX + params.dilationWidth * filterX
                                    if inX < 0 || inX >= inputWidth { continue }
                                    let inputBase = ((batch * inputHeight + inY) * inputWidth + inX) * inputDepth
                                        + inputChannelStart
                                    let filterBase = ((outChannel * filterHeight + filterY) * filterWidth + filterX)
                                        * filterDepth
                                    for channel in 0..<filterDepth {
                                        let x = input[inputBase + channel].widened &+ inputOffset
                                        let w = filter[filterBase + channel].widened &+ filterOffset
                                        accumulator = accumulator &+ x &* w
                                    }
                                }
                            }
                            if let bias { accumulator = accumulator &+ bias[outChannel] }
                            var value = multiplyByQuantizedMultiplier(accumulator, multipliers[outChannel])
                            value = min(max(value &+ outputOffset, low), high)
                            output[outputIndex] = T(clamped: value)
                            outputIndex += 1
                        }
                    }
                }
            }
        }
    }
}
