extension FloatKernels {
    /// DEQUANTIZE of float16 (the fp16 models' weights): exact widening.
    public static func dequantize(float16 input: UnsafeRawPointer, output: UnsafeMutablePointer<Float>,
                                  count: Int) {
        for i in 0..<count {
            let bits = input.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
            output[i] = widen(float16Bits: UInt16(littleEndian: bits))
        }
    }

    /// DEQUANTIZE of 8/16-bit integers: Float(scale * (q - zeroPoint)) with the product in double, as
    /// reference_ops::Dequantize (DequantizationParams.scale is a double). Per-channel when
    /// `scales.count > 1`: the channel is the index along `quantizedDimension`, whose inner stride is
    /// `innerCount`.
    public static func dequantize<Q: BinaryInteger>(_ input: UnsafePointer<Q>, output: UnsafeMutablePointer<Float>,
                                                    count: Int, scales: [Float], zeroPoints: [Int64],
                                                    innerCount: Int = 1) {
        let channels = scales.count
        for i in 0..<count {
            let c = channels == 1 ? 0 : (i / innerCount) % channels
            output[i] = Float(Double(scales[c]) * Double(Int64(input[i]) - zeroPoints[c]))
        }
    }

    /// QUANTIZE float -> int8/uint8/int16: round(x / scale) half away from zero, plus the zero point,
    /// clamped to the type's range (reference_ops::AffineQuantize). NaN maps to the zero point.
    public static func quantize<Q: FixedWidthInteger>(_ input: UnsafePointer<Float>, output: UnsafeMutablePointer<Q>,
                                                      count: Int, scale: Float, zeroPoint: Int) {
        let low = Float(Q.min), high = Float(Q.max)
        for i in 0..<count {
            let scaled = (input[i] / scale).rounded(.toNearestOrAwayFromZero)
            guard !scaled.isNaN else {
                output[i] = Q(clamping: zeroPoint)
                continue
            }
            let shifted = min(max(scaled + Float(zeroPoint), low), high)
            output[i] = Q(shifted)
        }
    }
}
