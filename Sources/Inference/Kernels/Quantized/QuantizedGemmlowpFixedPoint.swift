// The pieces of gemmlowp's fixedpoint.h that TFLite's quantized softmax uses. A FixedPoint<int32,
// I> is a raw int32 with I integer bits and 31 - I fractional bits; these helpers work on raw
// values and take the integer-bit counts explicitly.

extension Quantized {
    enum Gemmlowp {
        /// Raw value of 1.0 with `integerBits` integer bits (saturated to INT32_MAX when 0).
        @inline(__always)
        static func one(integerBits: Int32) -> Int32 {
            integerBits == 0 ? Int32.max : Int32(1) << (31 - integerBits)
        }

        /// FixedPoint multiplication: the result has the sum of the operands' integer bits.
        @inline(__always)
        static func multiply(_ a: Int32, _ b: Int32) -> Int32 {
            saturatingRoundingDoublingHighMul(a, b)
        }

        /// SaturatingRoundingMultiplyByPOT<exponent>.
        @inline(__always)
        static func saturatingRoundingMultiplyByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
            if exponent == 0 { return x }
            if exponent < 0 { return roundingDivideByPOT(x, -exponent) }
            let threshold = (Int32(1) << (31 - exponent)) - 1
            if x > threshold { return Int32.max }
            if x < -threshold { return Int32.min }
            return x << exponent
        }

        /// Rescale<to>(FixedPoint<from>).
        @inline(__always)
        static func rescale(_ x: Int32, from: Int32, to: Int32) -> Int32 {
            saturatingRoundingMultiplyByPOT(x, from - to)
        }

        /// RoundingHalfSum: (a + b) / 2 rounded away from zero.
        @inline(__always)
        static func roundingHalfSum(_ a: Int32, _ b: Int32) -> Int32 {
            let sum = Int64(a) + Int64(b)
            let sign: Int64 = sum >= 0 ? 1 : -1
            return Int32(truncatingIfNeeded: (sum + sign) / 2)
        }

        /// exp(a) for a in [-1/4, 0), both with 0 integer bits: Taylor expansion around -1/8.
        static func expOnIntervalBetweenNegativeOneQuarterAndZeroExclusive(_ a: Int32) -> Int32 {
            let constantTerm: Int32 = 1895147668  // exp(-1/8)
            let constantOneThird: Int32 = 715827883  // 1/3
            let x = a &+ (Int32(1) << 28)  // a + 1/8
            let x2 = multiply(x, x)
            let x3 = multiply(x2, x)
            let x4 = multiply(x2, x2)
            let x4Over4 = saturatingRoundingMultiplyByPOT(x4, -2)
            let polynomial = saturatingRoundingMultiplyByPOT(
                multiply(x4Over4 &+ x3, constantOneThird) &+ x2, -1)
            return constantTerm &+ multiply(constantTerm, x &+ polynomial)
        }

        /// exp_on_negative_values: exp(a) for a <= 0 with `integerBits` integer bits; result has 0.
        static func expOnNegativeValues(_ a: Int32, integerBits: Int32) -> Int32 {
            let fractionalBits = 31 - integerBits
            let oneQuarter = Int32(1) << (fractionalBits - 2)
            let mask = oneQuarter - 1
            let aModQuarterMinusOneQuarter = (a & mask) &- oneQuarter
            var result = expOnIntervalBetweenNegativeOneQuarterAndZeroExclusive(
                rescale(aModQuarterMinusOneQuarter, from: integerBits, to: 0))
            let remainder = aModQuarterMinusOneQuarter &- a
            // Multiply by exp(-2^k) for every bit k of the remaining whole quarters.
            let barrel: [(exponent: Int32, multiplier: Int32)] = [
                (-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                (2, 39332535), (3, 720401), (4, 242),
            ]
            for (exponent, multiplier) in barrel where integerBits > exponent {
                if remainder & (Int32(1) << (fractionalBits + exponent)) != 0 {
                    result = multiply(result, multiplier)
                }
            }
            if integerBits > 5 {
                let clamp = -(Int32(1) << (36 - integerBits))  // -32.0
                if a < clamp { result = 0 }
            }
            if a == 0 { result = one(integerBits: 0) }
            return result
        }

        /// one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a), a in [0, 1), Newton-Raphson in Q2.29.
        static func oneOverOnePlusXForXIn01(_ a: Int32) -> Int32 {
            let halfDenominator = roundingHalfSum(a, one(integerBits: 0))  // Q0.31
            let constant48Over17: Int32 = 1515870810  // Q2.29
            let constantNeg32Over17: Int32 = -1010580540  // Q2.29
            var x = constant48Over17 &+ multiply(halfDenominator, constantNeg32Over17)
            let oneQ2 = one(integerBits: 2)
            for _ in 0..<3 {
                let halfDenominatorTimesX = multiply(halfDenominator, x)  // Q2
                let oneMinus = oneQ2 &- halfDenominatorTimesX  // Q2
                x = x &+ rescale(multiply(x, oneMinus), from: 4, to: 2)
            }
            // ExactMulByPot<-1> reinterprets Q2 as Q1 (halving), then Rescale<0> from Q1.
            return rescale(x, from: 1, to: 0)
        }
    }

    /// TFLite's GetReciprocal: 1 / x for x with `integerBits` integer bits, as a Q0.31 value and the
    /// number of bits x had above 1.0.
    static func reciprocal(_ x: Int32, integerBits: Int32) -> (value: Int32, bitsOverUnit: Int32) {
        let headroomPlusOne = Int32(UInt32(bitPattern: x).leadingZeroBitCount)
        let bitsOverUnit = integerBits - headroomPlusOne
        let shiftedSumMinusOne = Int32(bitPattern: (UInt32(bitPattern: x) << UInt32(headroomPlusOne)) &- (UInt32(1) << 31))
        return (Gemmlowp.oneOverOnePlusXForXIn01(shiftedSumMinusOne), bitsOverUnit)
    }
}
