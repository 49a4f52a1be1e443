// TFLite's fixed-point rescaling, checked against values worked out by hand from the definitions in
// quantization_util.cc and gemmlowp's fixedpoint.h (not from this code's output).
import Testing
@testable import Inference

@Test func quantizeMultiplierSplitsIntoQ31SignificandAndShift() throws {
    // frexp(0.5) = 0.5 * 2^0 -> 0.5 * 2^31 = 2^30.
    #expect(try Quantized.quantizeMultiplier(0.5) == .init(significand: 1 << 30, shift: 0))
    // frexp(1.0) = 0.5 * 2^1.
    #expect(try Quantized.quantizeMultiplier(1.0) == .init(significand: 1 << 30, shift: 1))
    // 0.75 * 2^31 = 1610612736.
    #expect(try Quantized.quantizeMultiplier(0.75) == .init(significand: 1_610_612_736, shift: 0))
    // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 -> 1717986918.
    #expect(try Quantized.quantizeMultiplier(0.1) == .init(significand: 1_717_986_918, shift: -3))
    #expect(try Quantized.quantizeMultiplier(-0.5) == .init(significand: -(1 << 30), shift: 0))
    #expect(try Quantized.quantizeMultiplier(0) == .init(significand: 0, shift: 0))
}

@Test func quantizeMultiplierRoundsHalfAwayFromZero() throws {
    // (0.5 + 2^-32) * 2^31 = 2^30 + 0.5 -> 2^30 + 1.
    #expect(try Quantized.quantizeMultiplier(0.5 + 0x1p-32) == .init(significand: (1 << 30) + 1, shift: 0))
    #expect(try Quantized.quantizeMultiplier(-(0.5 + 0x1p-32)) == .init(significand: -((1 << 30) + 1), shift: 0))
}

@Test func quantizeMultiplierRenormalisesWhenRoundingReachesOne() throws {
    // 1 - 2^-40 = (1 - 2^-40) * 2^0; times 2^31 rounds to 2^31, so TFLite halves it and bumps the shift.
    #expect(try Quantized.quantizeMultiplier(1 - 0x1p-40) == .init(significand: 1 << 30, shift: 1))
}

@Test func quantizeMultiplierFlushesTinyValuesToZero() throws {
    // 2^-32 = 0.5 * 2^-31 still fits; 2^-40 = 0.5 * 2^-39 needs a shift below -31.
    #expect(try Quantized.quantizeMultiplier(0x1p-32) == .init(significand: 1 << 30, shift: -31))
    #expect(try Quantized.quantizeMultiplier(0x1p-40) == .init(significand: 0, shift: 0))
}

@Test func quantizeMultiplierRejectsWhatTFLiteWouldAssertOn() {
    #expect(throws: Quantized.KernelError.self) { try Quantized.quantizeMultiplier(.nan) }
    #expect(throws: Quantized.KernelError.self) { try Quantized.quantizeMultiplier(.infinity) }
    #expect(throws: Quantized.KernelError.self) { try Quantized.quantizeMultiplierSmallerThanOne(1.5) }
    #expect(throws: Quantized.KernelError.self) { try Quantized.quantizeMultiplierGreaterThanOne(0.5) }
}

@Test func saturatingRoundingDoublingHighMulRoundsHalvesUpAndSaturates() {
    typealias Q = Quantized
    // a * b / 2^31: 2^30 * 2^30 / 2^31 = 2^29 exactly.
    #expect(Q.saturatingRoundingDoublingHighMul(1 << 30, 1 << 30) == 1 << 29)
    // 1 * 2^30 / 2^31 = 0.5 -> 1; -0.5 -> 0 (the nudge makes halves round toward +infinity).
    #expect(Q.saturatingRoundingDoublingHighMul(1, 1 << 30) == 1)
    #expect(Q.saturatingRoundingDoublingHighMul(-1, 1 << 30) == 0)
    // 3 * 2^30 / 2^31 = 1.5 -> 2; -1.5 -> -1.
    #expect(Q.saturatingRoundingDoublingHighMul(3, 1 << 30) == 2)
    #expect(Q.saturatingRoundingDoublingHighMul(-3, 1 << 30) == -1)
    // The one product that does not fit: (-2^31)^2 / 2^31 = 2^31.
    #expect(Q.saturatingRoundingDoublingHighMul(.min, .min) == .max)
    #expect(Q.saturatingRoundingDoublingHighMul(.min, .max) == -.max)
}

@Test func roundingDivideByPowerOfTwoRoundsHalvesAwayFromZero() {
    typealias Q = Quantized
    #expect(Q.roundingDivideByPOT(5, 1) == 3)    // 2.5
    #expect(Q.roundingDivideByPOT(-5, 1) == -3)  // -2.5
    #expect(Q.roundingDivideByPOT(6, 2) == 2)    // 1.5
    #expect(Q.roundingDivideByPOT(-6, 2) == -2)  // -1.5
    #expect(Q.roundingDivideByPOT(7, 2) == 2)    // 1.75
    #expect(Q.roundingDivideByPOT(-7, 2) == -2)  // -1.75
    #expect(Q.roundingDivideByPOT(5, 2) == 1)    // 1.25
    #expect(Q.roundingDivideByPOT(-5, 2) == -1)  // -1.25
    #expect(Q.roundingDivideByPOT(123, 0) == 123)
    #expect(Q.roundingDivideByPOT(.max, 31) == 1)
    #expect(Q.roundingDivideByPOT(.min, 31) == -1)
}

@Test func multiplyByQuantizedMultiplierAppliesBothRoundings() {
    typealias Q = Quantized
    // 100 * 0.5 * 2^-1 = 25.
    #expect(Q.multiplyByQuantizedMultiplier(100, 1 << 30, -1) == 25)
    // Left shift first: 100 * 2^2 * 0.5 = 200.
    #expect(Q.multiplyByQuantizedMultiplier(100, 1 << 30, 2) == 200)
    // 3 * 0.5 = 1.5 -> 2 (first rounding); then 2 / 2 = 1. A single rounding of 0.75 would give 1 too,
    // but 5 * 0.5 = 2.5 -> 3, 3 / 2 = 1.5 -> 2, where a single rounding of 1.25 gives 1.
    #expect(Q.multiplyByQuantizedMultiplier(5, 1 << 30, -1) == 2)
    #expect(Q.multiplyByQuantizedMultiplier(-5, 1 << 30, -1) == -1)  // -2.5 -> -2, -1 -> -1
}

@Test func activationRangesFollowCalculateActivationRangeQuantized() throws {
    typealias Q = Quantized
    let uint8 = Q.TensorQuantization(scale: 0.1, zeroPoint: 10)
    #expect(try Q.activationRange(.none, output: uint8, as: UInt8.self) == .init(minimum: 0, maximum: 255))
    #expect(try Q.activationRange(.relu, output: uint8, as: UInt8.self) == .init(minimum: 10, maximum: 255))
    #expect(try Q.activationRange(.relu6, output: uint8, as: UInt8.self) == .init(minimum: 10, maximum: 70))
    #expect(try Q.activationRange(.reluN1To1, output: uint8, as: UInt8.self) == .init(minimum: 0, maximum: 20))
    let int8 = Q.TensorQuantization(scale: 0.05, zeroPoint: -3)
    #expect(try Q.activationRange(.relu6, output: int8, as: Int8.self) == .init(minimum: -3, maximum: 117))
    #expect(try Q.activationRange(.reluN1To1, output: int8, as: Int8.self) == .init(minimum: -23, maximum: 17))
    // 6 / 0.02 = 300 is beyond int8: clamped to the type's maximum.
    let narrow = Q.TensorQuantization(scale: 0.02, zeroPoint: -128)
    #expect(try Q.activationRange(.relu6, output: narrow, as: Int8.self) == .init(minimum: -128, maximum: 127))
}

@Test func paddingMatchesTFLiteSameAndValid() throws {
    typealias Q = Quantized
    // SAME: out = ceil(in / stride); total = (out - 1) * stride + filter - in; before = total / 2.
    #expect(try Q.paddedDimension(.same, inputSize: 300, filterSize: 3, stride: 2) == .init(outputSize: 150, paddingBefore: 0))
    #expect(try Q.paddedDimension(.same, inputSize: 5, filterSize: 3, stride: 1) == .init(outputSize: 5, paddingBefore: 1))
    #expect(try Q.paddedDimension(.same, inputSize: 4, filterSize: 5, stride: 1) == .init(outputSize: 4, paddingBefore: 2))
    #expect(try Q.paddedDimension(.same, inputSize: 10, filterSize: 3, stride: 1, dilation: 2) == .init(outputSize: 10, paddingBefore: 2))
    #expect(try Q.paddedDimension(.valid, inputSize: 129, filterSize: 3, stride: 2) == .init(outputSize: 64, paddingBefore: 0))
    #expect(throws: Q.KernelError.self) { try Q.paddedDimension(.valid, inputSize: 2, filterSize: 3, stride: 1) }
}
