// DEPTHWISE_CONV_2D on 8-bit tensors: reference_ops::DepthwiseConv (uint8, the kAwayFromZero
// rounding the reference kernel uses) and reference_integer_ops::DepthwiseConvPerChannel (int8).
// Output channel m + c * depthMultiplier filters input channel c only.

extension Quantized {
    /// input [N, H, W, C], filter [1, KH, KW, C * depthMultiplier], bias [C * depthMultiplier] or nil,
    /// output [N, OH, OW, C * depthMultiplier].
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func depthwiseConv2D<T: Element>(
        input: UnsafeBufferPointer<T>, inputShape: [Int],
        filter: UnsafeBufferPointer<T>, filterShape: [Int],
        bias: UnsafeBufferPointer<Int32>?,
        output: UnsafeMutableBufferPointer<T>, outputShape: [Int],
        params: ConvParams
    ) throws {
        try checkDepthwiseConv2D(inputShape: inputShape, filterShape: filterShape, outputShape: outputShape, params: params)
        try requireCount(input, inputShape.reduce(1, *), "DEPTHWISE_CONV_2D input")
        try requireCount(filter, filterShape.reduce(1, *), "DEPTHWISE_CONV_2D filter")
        try requireCount(output, outputShape.reduce(1, *), "DEPTHWISE_CONV_2D output")
        if let bias { try requireCount(bias, filterShape[3], "DEPTHWISE_CONV_2D bias") }
        depthwiseConv2DUnchecked(input: input, inputShape: inputShape, filter: filter, filterShape: filterShape,
                                 bias: bias, output: output, outputShape: outputShape, params: params)
    }

    /// The shape and parameter checks of depthwiseConv2D, for callers that check once and run many times.
    public static func checkDepthwiseConv2D(inputShape: [Int], filterShape: [Int], outputShape: [Int], params: ConvParams) throws {
        try requireRank(inputShape, 4, "DEPTHWISE_CONV_2D input")
        try requireRank(filterShape, 4, "DEPTHWISE_CONV_2D filter")
        try requireRank(outputShape, 4, "DEPTHWISE_CONV_2D output")
        let outputDepth = inputShape[3] * params.depthMultiplier
        guard params.depthMultiplier >= 1, filterShape[0] == 1, filterShape[3] == outputDepth,
              outputShape[0] == inputShape[0], outputShape[3] == outputDepth else {
            throw KernelError("DEPTHWISE_CONV_2D: input \(inputShape), filter \(filterShape), output \(outputShape) and depth multiplier \(params.depthMultiplier) do not fit")
        }
        guard params.outputMultipliers.count == outputDepth else {
            throw KernelError("DEPTHWISE_CONV_2D: \(params.outputMultipliers.count) output multipliers for \(outputDepth) channels")
        }
    }

    /// depthwiseConv2D without its checks: the caller has run checkDepthwiseConv2D and sized the
    /// buffers from the shapes.
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    static func depthwiseConv2DUnchecked<T: Element>(
        input: UnsafeBufferPointer<T>, inputShape: [Int],
        filter: UnsafeBufferPointer<T>, filterShape: [Int],
        bias: UnsafeBufferPointer<Int32>?,
        output: UnsafeMutableBufferPointer<T>, outputShape: [Int],
        params: ConvParams
    ) {
        let batches = inputShape[0], inputHeight = inputShape[1], inputWidth = inputShape[2]
        let inputDepth = inputShape[3]
        let filterHeight = filterShape[1], filterWidth = filterShape[2]
        let depthMultiplier = params.depthMultiplier
        let outputDepth = inputDepth * depthMultiplier
        let outputHeight = outputShape[1], outputWidth = outputShape[2]
        let inputOffset = params.inputOffset, filterOffset = params.filterOffset
        let outputOffset = params.outputOffset
        let low = params.activation.minimum, high = params.activation.maximum
        params.outputMultipliers.withUnsafeBufferPointer { multipliers in
            for batch in 0..<batches {
                for outY in 0..<outputHeight {
                    let originY = outY * params.strideHeight - params.paddingHeight
                    for outX in 0..<outputWidth {
                        let originX = outX * params.strideWidth - params.paddingWidth
                        let outputBase = ((batch * outputHeight + outY) * outputWidth + outX) * outputDepth
                        for inChannel in 0..<inputDepth {
                            for m in 0..<depthMultiplier {
                                let outChannel = m + inChannel * depthMultiplier
                                var accumulator: Int32 = 0
                                for filterY in 0..<filterHeight {
                                    let inY = originY + params.dilationHeight * filterY
                                    if inY < 0 || inY >= inputHeight { continue }
                                    for filterX in 0..<filterWidth {
                                        let inX = originX + params.dilationWidth * filterX
                                        if inX < 0 || inX >= inputWidth { continue }
                                        let x = input[((batch * inputHeight + inY) * inputWidth + inX) * inputDepth + inChannel]
                                            .widened &+ inputOffset
                                        let w = filter[(filterY * filterWidth + filterX) * outputDepth + outChannel]
                                            .widened &+ filterOffset
                                        accumulator = accumulator &+ x &* w
                                    }
                                }
                                if let bias { accumulator = accumulator &+ bias[outChannel] }
                                var value = multiplyByQuantizedMultiplier(accumulator, multipliers[outChannel])
                                value = min(max(value &+ outputOffset, low), high)
                                output[outputBase + outChannel] = T(clamped: value)
                            }
                        }
                    }
                }
            }
        }
    }
}
