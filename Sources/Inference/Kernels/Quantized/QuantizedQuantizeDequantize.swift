// QUANTIZE and DEQUANTIZE (kernels/quantize.cc, dequantize.cc; reference_ops::AffineQuantize,
// Requantize, Dequantize).

extension Quantized {
    /// float -> 8-bit: round(x / scale) (float division, halves away from zero) + zeroPoint, clamped.
    /// NaN becomes the zero point and infinities saturate (TFLite leaves both undefined).
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func quantize<T: Element>(
        _ input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<T>, quantization: TensorQuantization
    ) throws {
        try quantization.requirePerTensor("QUANTIZE output")
        try requireCount(output, input.count, "QUANTIZE output")
        let scale = quantization.scale, zeroPoint = quantization.zeroPoint
        for i in 0..<input.count {
            let rounded = (input[i] / scale).rounded(.toNearestOrAwayFromZero)
            let value = Int32(clampingToInt32: rounded) &+ zeroPoint
            output[i] = T(clamped: min(max(value, T.minimumValue), T.maximumValue))
        }
    }

    /// The multiplier QUANTIZE uses to requantize one 8-bit tensor into another: inScale / outScale.
    public static func requantizeMultiplier(input: TensorQuantization, output: TensorQuantization) throws -> Multiplier {
        try input.requirePerTensor("QUANTIZE input")
        try output.requirePerTensor("QUANTIZE output")
        return try quantizeMultiplier(Double(input.scale) / Double(output.scale))
    }

    /// 8-bit -> 8-bit QUANTIZE (e.g. uint8 input to int8): rescale (q - inZp), add outZp, clamp.
    public static func requantize<In: Element, Out: Element>(
        _ input: UnsafeBufferPointer<In>, inputZeroPoint: Int32,
        output: UnsafeMutableBufferPointer<Out>, outputZeroPoint: Int32, multiplier: Multiplier
    ) throws {
        try requireCount(output, input.count, "QUANTIZE output")
        for i in 0..<input.count {
            let value = multiplyByQuantizedMultiplier(input[i].widened &- inputZeroPoint, multiplier) &+ outputZeroPoint
            output[i] = Out(clamped: min(max(value, Out.minimumValue), Out.maximumValue))
        }
    }

    /// 8-bit -> float: scale * (q - zeroPoint), computed in double (TFLite's DequantizationParams
    /// holds a double scale) and rounded once to float.
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func dequantize<T: Element>(
        _ input: UnsafeBufferPointer<T>, quantization: TensorQuantization, output: UnsafeMutableBufferPointer<Float>
    ) throws {
        try quantization.requirePerTensor("DEQUANTIZE input")
        try requireCount(output, input.count, "DEQUANTIZE output")
        let scale = Double(quantization.scale), zeroPoint = quantization.zeroPoint
        for i in 0..<input.count {
            output[i] = Float(scale * Double(input[i].widened &- zeroPoint))
        }
    }

    /// float16 -> float32 DEQUANTIZE (exact), from the IEEE half-precision bit patterns.
    public static func dequantizeFloat16(_ input: UnsafeBufferPointer<UInt16>, output: UnsafeMutableBufferPointer<Float>) throws {
        try requireCount(output, input.count, "DEQUANTIZE output")
        for i in 0..<input.count {
            output[i] = Float(Float16(bitPattern: input[i]))
        }
    }
}
