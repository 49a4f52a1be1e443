// AVERAGE_POOL_2D and MAX_POOL_2D on 8-bit tensors (reference_ops / reference_integer_ops
// AveragePool and MaxPool). Windows are clipped to the image: padding is never counted. The average
// is the int32 sum divided by the number of taps, rounded half away from zero; input and output
// share one quantization, so no rescaling.

extension Quantized {
    public struct PoolParams: Sendable {
        public var strideHeight: Int
        public var strideWidth: Int
        public var filterHeight: Int
        public var filterWidth: Int
        public var paddingHeight: Int
        public var paddingWidth: Int
        public var activation: ActivationRange
    }

    /// Parameters for an NHWC input of `inputShape`; also returns the output shape.
    public static func poolParams<T: Element>(
        elementType: T.Type, inputShape: [Int], output: TensorQuantization,
        filterHeight: Int, filterWidth: Int, strideHeight: Int, strideWidth: Int,
        padding: Padding, activation: FusedActivation
    ) throws -> (params: PoolParams, outputShape: [Int]) {
        try requireRank(inputShape, 4, "pooling input")
        let rows = try paddedDimension(padding, inputSize: inputShape[1], filterSize: filterHeight, stride: strideHeight)
        let columns = try paddedDimension(padding, inputSize: inputShape[2], filterSize: filterWidth, stride: strideWidth)
        let params = PoolParams(
            strideHeight: strideHeight, strideWidth: strideWidth, filterHeight: filterHeight, filterWidth: filterWidth,
            paddingHeight: rows.paddingBefore, paddingWidth: columns.paddingBefore,
            activation: try activationRange(activation, output: output, as: T.self))
        return (params, [inputShape[0], rows.outputSize, columns.outputSize, inputShape[3]])
    }

    public enum PoolKind: Sendable { case average, maximum }

    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func pool2D<T: Element>(
        _ kind: PoolKind, input: UnsafeBufferPointer<T>, inputShape: [Int],
        output: UnsafeMutableBufferPointer<T>, outputShape: [Int], params: PoolParams
    ) throws {
        try requireRank(inputShape, 4, "pooling input")
        try requireRank(outputShape, 4, "pooling output")
        let batches = inputShape[0], inputHeight = inputShape[1], inputWidth = inputShape[2], depth = inputShape[3]
        let outputHeight = outputShape[1], outputWidth = outputShape[2]
        guard outputShape[0] == batches, outputShape[3] == depth else {
            throw KernelError("pooling: output \(outputShape) does not match input \(inputShape)")
        }
        try requireCount(input, inputShape.reduce(1, *), "pooling input")
        try requireCount(output, outputShape.reduce(1, *), "pooling output")
        var outputIndex = 0
        for batch in 0..<batches {
            for outY in 0..<outputHeight {
                let originY = outY * params.strideHeight - params.paddingHeight
                let yStart = max(0, -originY), yEnd = min(params.filterHeight, inputHeight - originY)
                for outX in 0..<outputWidth {
                    let originX = outX * params.strideWidth - params.paddingWidth
                    let xStart = max(0, -originX), xEnd = min(params.filterWidth, inputWidth - originX)
                    let count = Int32(max(yEnd - yStart, 0) * max(xEnd - xStart, 0))
                    guard count > 0 else {
                        throw KernelError("pooling: output (\(outY), \(outX)) has an empty window")
                    }
                    for channel in 0..<depth {
                        var accumulator: Int32 = kind == .average ? 0 : T.minimumValue
                        for filterY in yStart..<yEnd {
                            let rowBase = (batch * inputHeight + originY + filterY) * inputWidth
                            for filterX in xStart..<xEnd {
                                let value = input[(rowBase + originX + filterX) * depth + channel].widened
                                accumulator = kind == .average ? accumulator &+ value : max(accumulator, value)
                            }
                        }
                        if kind == .average {
                            accumulator = accumulator > 0
                                ? (accumulator + count / 2) / count
                                : (accumulator - count / 2) / count
                        }
                        let value = min(max(accumulator, params.activation.minimum), params.activation.maximum)
                        output[outputIndex] = T(clamped: value)
                        outputIndex += 1
                    }
                }
            }
        }
    }
}
