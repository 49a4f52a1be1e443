// A fused activation becomes clamp bounds in the output's quantized domain
// (kernel_util.cc CalculateActivationRangeQuantized).

extension Quantized {
    /// A .tflite ActivationFunctionType.
    public enum FusedActivation: Sendable {
        case none, relu, reluN1To1, relu6, tanh, signBit
    }

    /// Inclusive quantized clamp bounds.
    public struct ActivationRange: Equatable, Sendable {
        public var minimum: Int32
        public var maximum: Int32
        public init(minimum: Int32, maximum: Int32) {
            self.minimum = minimum
            self.maximum = maximum
        }
    }

    /// The output type's full range, narrowed by RELU/RELU6/RELU_N1_TO_1 to the quantized images of
    /// 0, 6, -1, 1 (float division, rounded half away from zero). Other activations leave the full
    /// range, as TFLite does.
    public static func activationRange<T: Element>(
        _ activation: FusedActivation, output: TensorQuantization, as type: T.Type
    ) throws -> ActivationRange {
        try output.requirePerTensor("activation range of the output")
        let scale = output.scale
        let zeroPoint = output.zeroPoint
        func quantize(_ value: Float) -> Int32 {
            zeroPoint &+ Int32(clampingToInt32: (value / scale).rounded(.toNearestOrAwayFromZero))
        }
        let lowest = T.minimumValue
        let highest = T.maximumValue
        switch activation {
        case .relu:
            return ActivationRange(minimum: max(lowest, quantize(0)), maximum: highest)
        case .relu6:
            return ActivationRange(minimum: max(lowest, quantize(0)), maximum: min(highest, quantize(6)))
        case .reluN1To1:
            return ActivationRange(minimum: max(lowest, quantize(-1)), maximum: min(highest, quantize(1)))
        case .none, .tanh, .signBit:
            return ActivationRange(minimum: lowest, maximum: highest)
        }
    }
}

extension Int32 {
    /// A rounded float converted without trapping: out-of-range values saturate, NaN becomes 0.
    init(clampingToInt32 value: Float) {
        if value.isNaN {
            self = 0
        } else if value >= 2147483648.0 {
            self = .max
        } else if value < -2147483648.0 {
            self = .min
        } else {
            self = Int32(value)
        }
    }
}
