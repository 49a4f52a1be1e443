// TFLite's integer rescaling: a real multiplier M is stored as a Q0.31 significand and a power-of-two
// exponent (quantization_util.cc QuantizeMultiplier), and applied with gemmlowp's
// SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT (common.h
// MultiplyByQuantizedMultiplier, the default double-rounding variant, not TFLITE_SINGLE_ROUNDING).

extension Quantized {
    /// A real multiplier as TFLite stores it: real ≈ significand / 2^31 * 2^shift.
    /// `shift` > 0 shifts left, < 0 right (TFLite's sign convention for the per-channel shifts).
    public struct Multiplier: Equatable, Sendable {
        public var significand: Int32
        public var shift: Int32
        public init(significand: Int32, shift: Int32) {
            self.significand = significand
            self.shift = shift
        }
    }

    /// QuantizeMultiplier: frexp, round half away from zero to 31 fractional bits, renormalise
    /// when rounding reached 2^31, flush multipliers below 2^-31 to zero.
    public static func quantizeMultiplier(_ real: Double) throws -> Multiplier {
        guard real.isFinite else { throw KernelError("multiplier \(real) is not finite") }
        if real == 0 { return Multiplier(significand: 0, shift: 0) }
        // frexp: real = fraction * 2^exponent with |fraction| in [0.5, 1).
        var exponent = Int(real.exponent) + 1
        let fraction = Double(sign: real.sign, exponent: -1, significand: real.significand)
        var fixed = Int64((fraction * 2147483648.0).rounded(.toNearestOrAwayFromZero))
        if fixed == 1 << 31 {
            fixed /= 2
            exponent += 1
        }
        if exponent < -31 {
            // Every bit would be shifted out anyway; TFLite stores it as zero.
            exponent = 0
            fixed = 0
        }
        guard exponent <= 31 else { throw KernelError("multiplier \(real) is too large (2^\(exponent))") }
        return Multiplier(significand: Int32(fixed), shift: Int32(exponent))
    }

    /// QuantizeMultiplierSmallerThanOneExp: for multipliers in (0, 1); the shift is <= 0.
    public static func quantizeMultiplierSmallerThanOne(_ real: Double) throws -> Multiplier {
        guard real > 0, real < 1 else { throw KernelError("multiplier \(real) is not in (0, 1)") }
        return try quantizeMultiplier(real)
    }

    /// QuantizeMultiplierGreaterThanOne: for multipliers > 1; the shift is >= 0.
    public static func quantizeMultiplierGreaterThanOne(_ real: Double) throws -> Multiplier {
        guard real > 1 else { throw KernelError("multiplier \(real) is not greater than 1") }
        return try quantizeMultiplier(real)
    }

    /// gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), halves away from zero,
    /// saturating the single overflowing case INT32_MIN * INT32_MIN.
    @inline(__always)
    public static func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
        if a == b && a == Int32.min { return Int32.max }
        let product = Int64(a) * Int64(b)
        let nudge: Int64 = product >= 0 ? (1 << 30) : (1 - (1 << 30))
        // Int64 division truncates toward zero, as C++ does.
        return Int32(truncatingIfNeeded: (product + nudge) / (1 << 31))
    }

    /// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.
    /// `exponent` must be in 0...31.
    @inline(__always)
    public static func roundingDivideByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
        let mask = Int32(truncatingIfNeeded: (Int64(1) << Int64(exponent)) - 1)
        let remainder = x & mask
        let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
        return (x >> exponent) + (remainder > threshold ? 1 : 0)
    }

    /// MultiplyByQuantizedMultiplier: x * significand / 2^31 * 2^shift with TFLite's rounding.
    @inline(__always)
    public static func multiplyByQuantizedMultiplier(_ x: Int32, _ significand: Int32, _ shift: Int32) -> Int32 {
        let leftShift = shift > 0 ? shift : 0
        let rightShift = shift > 0 ? 0 : -shift
        // C++ multiplies in int32 here; the models' accumulators never come near overflow, and
        // wrapping keeps a hostile model from trapping.
        return roundingDivideByPOT(
            saturatingRoundingDoublingHighMul(x &* (1 << leftShift), significand), rightShift)
    }

    @inline(__always)
    public static func multiplyByQuantizedMultiplier(_ x: Int32, _ multiplier: Multiplier) -> Int32 {
        multiplyByQuantizedMultiplier(x, multiplier.significand, multiplier.shift)
    }

    /// MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0).
    @inline(__always)
    public static func multiplyByQuantizedMultiplierSmallerThanOne(_ x: Int32, _ multiplier: Multiplier) -> Int32 {
        roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier.significand), -multiplier.shift)
    }

    /// MultiplyByQuantizedMultiplierGreaterThanOne (shift >= 0).
    @inline(__always)
    public static func multiplyByQuantizedMultiplierGreaterThanOne(_ x: Int32, _ multiplier: Multiplier) -> Int32 {
        saturatingRoundingDoublingHighMul(x &* (1 << multiplier.shift), multiplier.significand)
    }
}
