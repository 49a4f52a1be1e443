// CONCATENATION on 8-bit tensors (kernels/concatenation.cc): uint8 inputs whose scale or zero point
// differ from the output's are requantized in float as reference_ops::ConcatenationWithScaling does,
// round(q * inScale / outScale - zp * inScale / outScale) + outZp; int8 inputs must already share the
// output's quantization (TFLite rejects the model otherwise) and are copied.

extension Quantized {
    /// One input of a concatenation.
    public struct ConcatenationInput<T: Element> {
        public var data: UnsafeBufferPointer<T>
        public var shape: [Int]
        public var quantization: TensorQuantization
        public init(data: UnsafeBufferPointer<T>, shape: [Int], quantization: TensorQuantization) {
            self.data = data
            self.shape = shape
            self.quantization = quantization
        }
    }

    /// `axis` may be negative (counted from the end), as in the model's options.
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func concatenation<T: Element>(
        _ inputs: [ConcatenationInput<T>], axis: Int,
        output: UnsafeMutableBufferPointer<T>, outputShape: [Int], outputQuantization: TensorQuantization
    ) throws {
        let rank = outputShape.count
        let axis = axis < 0 ? axis + rank : axis
        guard !inputs.isEmpty, axis >= 0, axis < rank else {
            throw KernelError("CONCATENATION: axis \(axis) is outside rank \(rank), or there are no inputs")
        }
        try outputQuantization.requirePerTensor("CONCATENATION output")
        var axisTotal = 0
        for (i, input) in inputs.enumerated() {
            guard input.shape.count == rank,
                  (0..<rank).allSatisfy({ $0 == axis || input.shape[$0] == outputShape[$0] }) else {
                throw KernelError("CONCATENATION: input \(i) shape \(input.shape) does not fit output \(outputShape) on axis \(axis)")
            }
            try requireCount(input.data, input.shape.reduce(1, *), "CONCATENATION input \(i)")
            try input.quantization.requirePerTensor("CONCATENATION input \(i)")
            if T.self == Int8.self && input.quantization != outputQuantization {
                throw KernelError("CONCATENATION: int8 input \(i) has scale \(input.quantization.scale), zero point \(input.quantization.zeroPoint) but the output has \(outputQuantization.scale), \(outputQuantization.zeroPoint); TFLite requires them equal")
            }
            axisTotal += input.shape[axis]
        }
        guard axisTotal == outputShape[axis] else {
            throw KernelError("CONCATENATION: inputs add up to \(axisTotal) along axis \(axis), output has \(outputShape[axis])")
        }
        try requireCount(output, outputShape.reduce(1, *), "CONCATENATION output")

        let outerSize = outputShape[..<axis].reduce(1, *)
        let innerSize = outputShape[(axis + 1)...].reduce(1, *)
        let outputScale = outputQuantization.scale
        let outputZeroPoint = outputQuantization.zeroPoint
        let inverseOutputScale = 1 / outputScale
        var outputIndex = 0
        for outer in 0..<outerSize {
            for input in inputs {
                let copySize = input.shape[axis] * innerSize
                let start = outer * copySize
                let sameQuantization = input.quantization.zeroPoint == outputZeroPoint
                    && input.quantization.scale == outputScale
                if sameQuantization {
                    for j in 0..<copySize { output[outputIndex + j] = input.data[start + j] }
                } else {
                    let scale = input.quantization.scale * inverseOutputScale
                    let bias = -Float(input.quantization.zeroPoint) * scale
                    for j in 0..<copySize {
                        let rescaled = (Float(input.data[start + j].widened) * scale + bias)
                            .rounded(.toNearestOrAwayFromZero)
                        let value = Int32(clampingToInt32: rescaled) &+ outputZeroPoint
                        output[outputIndex + j] = T(clamped: min(max(value, T.minimumValue), T.maximumValue))
                    }
                }
                outputIndex += copySize
            }
        }
    }
}
