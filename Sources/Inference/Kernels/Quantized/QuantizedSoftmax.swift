// SOFTMAX on 8-bit tensors as LiteRT's reference kernel computes it (activations.cc SoftmaxPrepare
// for kReference, reference_ops::Softmax for int8/uint8): differences to the row maximum are scaled
// by beta * inputScale into Q5.26, exponentiated in gemmlowp fixed point, summed in Q12.19 and
// normalised with a fixed-point reciprocal. The output scale is 1/256 (zero point 0 for uint8,
// -128 for int8).

extension Quantized {
    public struct SoftmaxParams: Sendable {
        public var inputMultiplier: Multiplier  // shift >= 0: TFLite's input_left_shift
        public var diffMin: Int32
    }

    static let softmaxScaledDiffIntegerBits: Int32 = 5
    static let softmaxAccumulationIntegerBits: Int32 = 12

    public static func softmaxParams<T: Element>(
        elementType: T.Type, beta: Float, input: TensorQuantization, output: TensorQuantization
    ) throws -> SoftmaxParams {
        try input.requirePerTensor("SOFTMAX input")
        try output.requirePerTensor("SOFTMAX output")
        let expectedZeroPoint: Int32 = T.self == Int8.self ? -128 : 0
        guard output.scale == 1.0 / 256, output.zeroPoint == expectedZeroPoint else {
            throw KernelError("SOFTMAX output: TFLite requires scale 1/256 and zero point \(expectedZeroPoint), got \(output.scale), \(output.zeroPoint)")
        }
        // PreprocessSoftmaxScaling: beta * inputScale * 2^(31 - 5), capped at 2^31 - 1.
        let integerBits = softmaxScaledDiffIntegerBits
        let real = min(Double(beta) * Double(input.scale) * Double(Int64(1) << (31 - Int64(integerBits))),
                       Double((Int64(1) << 31) - 1))
        let multiplier = try quantizeMultiplierGreaterThanOne(real)
        // CalculateInputRadius: the largest difference whose scaled value still fits, rounded down.
        let maxInputRescaled = Double((Int64(1) << Int64(integerBits)) - 1)
            * Double(Int64(1) << (31 - Int64(integerBits))) / Double(Int64(1) << Int64(multiplier.shift))
        return SoftmaxParams(inputMultiplier: multiplier, diffMin: -Int32(maxInputRescaled.rounded(.down)))
    }

    /// Softmax over the last dimension of size `depth`; `input.count` must be a multiple of it.
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func softmax<T: Element>(
        _ input: UnsafeBufferPointer<T>, depth: Int, output: UnsafeMutableBufferPointer<T>, params: SoftmaxParams
    ) throws {
        guard depth > 0, input.count % depth == 0 else {
            throw KernelError("SOFTMAX: \(input.count) elements are not whole rows of \(depth)")
        }
        try requireCount(output, input.count, "SOFTMAX output")
        let rows = input.count / depth
        let outputBits = Int32(T.bitWidth)
        for row in 0..<rows {
            let base = row * depth
            var maxInRow = T.minimumValue
            for c in 0..<depth { maxInRow = max(maxInRow, input[base + c].widened) }

            func scaledExp(_ diff: Int32) -> Int32 {
                let rescaled = multiplyByQuantizedMultiplierGreaterThanOne(diff, params.inputMultiplier)
                return Gemmlowp.expOnNegativeValues(rescaled, integerBits: softmaxScaledDiffIntegerBits)
            }

            var sumOfExps: Int32 = 0  // Q12.19
            for c in 0..<depth {
                let diff = input[base + c].widened - maxInRow
                if diff >= params.diffMin {
                    sumOfExps = sumOfExps &+ Gemmlowp.rescale(
                        scaledExp(diff), from: 0, to: softmaxAccumulationIntegerBits)
                }
            }
            let (shiftedScale, bitsOverUnit) = reciprocal(sumOfExps, integerBits: softmaxAccumulationIntegerBits)
            for c in 0..<depth {
                let diff = input[base + c].widened - maxInRow
                if diff >= params.diffMin {
                    let probability = Gemmlowp.multiply(shiftedScale, scaledExp(diff))
                    let unsaturated = roundingDivideByPOT(probability, bitsOverUnit + 31 - outputBits)
                    let shifted = unsaturated &+ T.minimumValue
                    output[base + c] = T(clamped: min(max(shifted, T.minimumValue), T.maximumValue))
                } else {
                    output[base + c] = T(clamped: T.minimumValue)
                }
            }
        }
    }
}
