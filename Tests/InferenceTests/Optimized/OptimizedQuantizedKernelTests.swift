import CKernels
import Testing
@testable import Inference

// The optimized 8-bit convolutions against the reference kernels (Kernels/Quantized): integer outputs
// must be EXACTLY equal, on every instruction set this CPU has (AVX-512 with and without the VNNI
// GEMM) and with several thread counts, for int8 with per-channel filter scales and uint8 with
// per-tensor scales and non-zero zero points.

private extension SeededRandom {
    /// Mostly the type's extremes, which make the largest accumulators.
    mutating func extremeElements<T: Quantized.Element>(_ count: Int, _: T.Type) -> [T] {
        (0..<count).map { _ in
            switch int(0...3) {
            case 0, 1: return T.min
            case 2: return T.max
            default: return T(truncatingIfNeeded: next())
            }
        }
    }
}

/// One code path of the 8-bit kernels: an instruction set, and for AVX-512 whether the GEMM uses VNNI.
struct KernelPath: CustomStringConvertible {
    var isa: ck_isa
    var vnni: Bool
    var description: String { String(cString: ck_isa_name(isa)) + (isa == CK_ISA_AVX512 && !vnni ? " without VNNI" : "") }

    func activate() {
        ck_force_isa(isa)
        ck_gemm_q_disable_vnni(vnni ? 0 : 1)
    }

    static func restoreDefault() {
        ck_force_isa(ck_detected_isa())
        ck_gemm_q_disable_vnni(0)
    }
}

/// Every 8-bit kernel path this CPU can run (the GEMM and depthwise tests use them too).
var kernelPaths: [KernelPath] {
    var paths = [CK_ISA_PORTABLE, CK_ISA_AVX2_FMA, CK_ISA_AVX512].filter { $0.rawValue <= ck_detected_isa().rawValue }
        .map { KernelPath(isa: $0, vnni: false) }
    if ck_detected_isa() == CK_ISA_AVX512 && ck_has_avx512_vnni() != 0 { paths.append(KernelPath(isa: CK_ISA_AVX512, vnni: true)) }
    return paths
}

private let activations: [Quantized.FusedActivation] = [.none, .relu, .relu6]

/// Shape overrides for the targeted cases; nil fields are drawn at random.
private struct Shape {
    var kernel: Int? = nil, stride: Int? = nil, dilation: Int? = nil, same: Bool? = nil
    var inputChannels: Int? = nil
    var height: Int? = nil, width: Int? = nil
}

/// One random case: shapes, quantization (per-channel filter scales for int8), reference and optimized.
/// `extreme`: zero points at the ends of the type, mostly extreme values, large multipliers and biases.
private func check<T: Quantized.Element>(_: T.Type, depthwise: Bool, extreme: Bool = false, shape: Shape = Shape(),
                                         random: inout SeededRandom) throws {
    let kernel = shape.kernel ?? random.int(1...3) * 2 - 1
    let stride = shape.stride ?? random.int(1...2), dilation = shape.dilation ?? (random.int(0...4) == 0 ? 2 : 1)
    let same = shape.same ?? (random.int(0...1) == 0)
    let height = shape.height ?? random.int(1...15), width = shape.width ?? random.int(1...15), inC = shape.inputChannels ?? random.int(1...40)
    let outC = depthwise ? inC : random.int(1...50)
    let fh = kernel, fw = random.int(0...3) == 0 && !depthwise && shape.kernel == nil ? 1 : kernel
    let kind: Quantized.ConvolutionKind = depthwise ? .depthwise(depthMultiplier: 1) : .regular
    let xShape = [1, height, width, inC], wShape = depthwise ? [1, fh, fw, outC] : [outC, fh, fw, inC]
    let padding: Quantized.Padding = same ? .same : .valid
    guard let yShape = try? Quantized.convolutionOutputShape(
        kind, inputShape: xShape, filterShape: wShape, strideHeight: stride, strideWidth: stride,
        dilationHeight: dilation, dilationWidth: dilation, padding: padding), yShape[1] > 0, yShape[2] > 0 else { return }
    let signed = T.self == Int8.self
    func zeroPoint() -> Int32 {
        let range = signed ? -128...127 : 0...255
        return Int32(extreme ? (random.int(0...1) == 0 ? range.lowerBound : range.upperBound) : random.int(range))
    }
    let inputQ = Quantized.TensorQuantization(scales: [0.02 + random.unit() * 0.05], zeroPoints: [zeroPoint()])
    // Tiny output scales give multipliers above 1 (left shifts, wrapping in int32).
    let outputScale = extreme ? 0.000_05 + random.unit() * 0.01 : 0.05 + random.unit() * 0.3
    let outputQ = Quantized.TensorQuantization(scales: [outputScale], zeroPoints: [zeroPoint()])
    let filterQ: Quantized.TensorQuantization = signed
        ? .init(scales: (0..<outC).map { _ in 0.001 + random.unit() * 0.02 }, zeroPoints: .init(repeating: 0, count: outC),
                quantizedDimension: depthwise ? 3 : 0)
        : .init(scales: [0.001 + random.unit() * 0.02], zeroPoints: [zeroPoint()])
    let params = try Quantized.convolutionParams(
        kind, elementType: T.self, input: inputQ, inputShape: xShape, filter: filterQ, filterShape: wShape,
        output: outputQ, strideHeight: stride, strideWidth: stride, dilationHeight: dilation, dilationWidth: dilation,
        padding: padding, activation: activations[random.int(0...2)])
    let input = extreme ? random.extremeElements(xShape.reduce(1, *), T.self) : random.elements(xShape.reduce(1, *), T.self)
    let filter = extreme ? random.extremeElements(wShape.reduce(1, *), T.self) : random.elements(wShape.reduce(1, *), T.self)
    let biasRange = extreme ? Int(Int32.min)...Int(Int32.max) : -20000...20000
    let bias: [Int32]? = random.int(0...3) == 0 ? nil : (0..<outC).map { _ in Int32(random.int(biasRange)) }
    let count = yShape.reduce(1, *)
    var reference = [T](repeating: 0, count: count)
    try input.withUnsafeBufferPointer { x in
        try filter.withUnsafeBufferPointer { w in
            try reference.withUnsafeMutableBufferPointer { y in
                let b = bias?.withUnsafeBufferPointer { $0 }
                if depthwise {
                    try Quantized.depthwiseConv2D(input: x, inputShape: xShape, filter: w, filterShape: wShape, bias: b,
                                                  output: y, outputShape: yShape, params: params)
                } else {
                    try Quantized.conv2D(input: x, inputShape: xShape, filter: w, filterShape: wShape, bias: b,
                                         output: y, outputShape: yShape, params: params)
                }
            }
        }
    }
    let context = "\(T.self) \(depthwise ? "depthwise" : "conv") x\(xShape) w\(wShape) s\(stride) d\(dilation) \(padding)"
    defer { KernelPath.restoreDefault() }
    for path in kernelPaths {
        path.activate()
        for threads in [1, 3] {
            var optimized = [T](repeating: 0, count: count)
            try input.withUnsafeBytes { x in
                try filter.withUnsafeBytes { w in
                    try optimized.withUnsafeMutableBytes { y in
                        let b = bias?.withUnsafeBufferPointer { $0.baseAddress }
                        if depthwise {
                            OptimizedQuantizedKernels.DepthwiseConv2D(
                                filter: w.baseAddress!, bias: b ?? nil, isSigned: signed, inputShape: xShape,
                                filterShape: wShape, outputShape: yShape, params: params, threads: threads)
                                .run(input: x.baseAddress!, output: y.baseAddress!)
                        } else {
                            try #require(OptimizedQuantizedKernels.Conv2D(
                                filter: w.baseAddress!, bias: b ?? nil, isSigned: signed, inputShape: xShape,
                                filterShape: wShape, outputShape: yShape, params: params, threads: threads))
                                .run(input: x.baseAddress!, output: y.baseAddress!)
                        }
                    }
                }
            }
            let mismatch = optimized.indices.first { optimized[$0] != reference[$0] }
            #expect(mismatch == nil, "\(context) on \(path) x\(threads): first mismatch at \(mismatch ?? -1)")
        }
    }
}

/// Serialized: every test switches the process-wide instruction set (ck_force_isa).
@Suite(.serialized) struct OptimizedQuantizedKernelTests {
    @Test func optimizedInt8PerChannelConvolutionsEqualReferenceExactly() throws {
        var random = SeededRandom(state: 11)
        for _ in 0..<30 {
            try check(Int8.self, depthwise: false, random: &random)
            try check(Int8.self, depthwise: true, random: &random)
        }
    }

    @Test func optimizedUInt8PerTensorConvolutionsEqualReferenceExactly() throws {
        var random = SeededRandom(state: 23)
        for _ in 0..<30 {
            try check(UInt8.self, depthwise: false, random: &random)
            try check(UInt8.self, depthwise: true, random: &random)
        }
    }

    @Test func optimizedConvolutionsEqualReferenceWithExtremeValuesAndZeroPoints() throws {
        var random = SeededRandom(state: 37)
        for _ in 0..<15 {
            // Up to 300 input channels: accumulators far beyond int16, k rarely a multiple of 4.
            let deep = Shape(inputChannels: random.int(1...300))
            try check(Int8.self, depthwise: false, extreme: true, shape: deep, random: &random)
            try check(UInt8.self, depthwise: false, extreme: true, shape: deep, random: &random)
            try check(Int8.self, depthwise: true, extreme: true, random: &random)
            try check(UInt8.self, depthwise: true, extreme: true, random: &random)
        }
    }

    /// 3x3 depthwise with 32+ channels, the shape of the vpmaddwd path (two taps per multiply over
    /// 32-channel blocks, 16-channel remainder), with ordinary and extreme zero points.
    @Test func optimizedWideDepthwiseEqualsReference() throws {
        var random = SeededRandom(state: 43)
        for round in 0..<10 {
            let wide = Shape(kernel: 3, inputChannels: random.int(32...100))
            try check(Int8.self, depthwise: true, extreme: round % 2 == 1, shape: wide, random: &random)
            try check(UInt8.self, depthwise: true, extreme: round % 2 == 1, shape: wide, random: &random)
        }
    }

    /// 3x3 windows over 3 channels (every model's first layer): the AVX-512 path builds two horizontally
    /// adjacent pixels' rows at once and falls back per pixel at the borders, at odd output widths (pairs
    /// that would span two output rows) and at tile ends; sizes up to 41 give several 48-pixel tiles.
    @Test func optimizedThreeChannelConvolutionsEqualReference() throws {
        var random = SeededRandom(state: 53)
        for round in 0..<16 {
            let rgb = Shape(kernel: 3, stride: round % 4 == 0 ? 1 : 2, dilation: 1, same: round % 4 != 3,
                            inputChannels: 3, height: random.int(3...41), width: random.int(3...41))
            try check(Int8.self, depthwise: false, extreme: round % 2 == 1, shape: rgb, random: &random)
            try check(UInt8.self, depthwise: false, extreme: round % 2 == 1, shape: rgb, random: &random)
        }
    }

    @Test func optimizedPointwiseConvolutionsEqualReference() throws {
        var random = SeededRandom(state: 41)
        for round in 0..<12 {
            // 1x1 stride 1: the GEMM rows are the input pixels themselves (used in place for uint8 when the
            // channels are a multiple of 4, as in every other round).
            let channels = round % 2 == 0 ? random.int(1...18) * 4 : random.int(1...70)
            let pointwise = Shape(kernel: 1, stride: 1, dilation: 1, same: false, inputChannels: channels)
            try check(Int8.self, depthwise: false, shape: pointwise, random: &random)
            try check(UInt8.self, depthwise: false, shape: pointwise, random: &random)
        }
    }

    /// Vector requantization straight from accumulators (a 1x1 depthwise with zero inputs whose biases are
    /// the accumulators) against Quantized.multiplyByQuantizedMultiplier, including the saturating
    /// INT32_MIN * INT32_MIN case and the largest left and right shifts.
    @Test func optimizedRequantizationEqualsReferenceArithmetic() throws {
        var random = SeededRandom(state: 53)
        let channels = 45
        var accumulators = (0..<channels).map { _ in Int32(truncatingIfNeeded: random.next()) }
        var significands = (0..<channels).map { _ in Int32(truncatingIfNeeded: random.next()) }
        var shifts = (0..<channels).map { _ in Int32(random.int(-31...31)) }
        accumulators[0] = .min; significands[0] = .min; shifts[0] = 0
        accumulators[1] = .min; significands[1] = .min; shifts[1] = -5
        accumulators[2] = 1 << 20; significands[2] = .max; shifts[2] = 31
        accumulators[3] = -(1 << 20) - 1; significands[3] = 1 << 30; shifts[3] = -31
        // Exact ties: 3 * 2^30 / 2^31 = 1.5 in the high multiply, 6 * 2^30 / 2^31 / 2 = 1.5 in the shift.
        accumulators[4] = 3; significands[4] = 1 << 30; shifts[4] = 0
        accumulators[5] = -3; significands[5] = 1 << 30; shifts[5] = 0
        accumulators[6] = 6; significands[6] = 1 << 30; shifts[6] = -1
        accumulators[7] = -6; significands[7] = 1 << 30; shifts[7] = -1
        for signed in [true, false] {
            let outputOffset: Int32 = signed ? 3 : 130
            let low: Int32 = signed ? -128 : 0, high: Int32 = signed ? 127 : 255
            let expected = (0..<channels).map { c in
                min(max(Quantized.multiplyByQuantizedMultiplier(accumulators[c], significands[c], shifts[c]) &+ outputOffset, low), high)
            }
            let padded = OptimizedQuantizedKernels.paddedChannels(channels)
            var paddedSignificands = significands + [Int32](repeating: 0, count: padded - channels)
            var paddedShifts = shifts + [Int32](repeating: 0, count: padded - channels)
            // A 1x1 filter of zeros whose biases are the accumulators.
            var filter = [Int32](repeating: 0, count: ck_depthwise_q_packed_count(1, Int32(channels)))
            ck_depthwise_q_pack([UInt8](repeating: 0, count: channels), 0, 0, 0, accumulators, 1, Int32(channels), &filter)
            let input = [UInt8](repeating: 0, count: channels)
            var window = ck_window(input_height: 1, input_width: 1, channels: Int32(channels), output_height: 1,
                                   output_width: 1, filter_height: 1, filter_width: 1, stride_height: 1, stride_width: 1,
                                   dilation_height: 1, dilation_width: 1, pad_top: 0, pad_left: 0)
            defer { KernelPath.restoreDefault() }
            for path in kernelPaths {
                path.activate()
                var output = [UInt8](repeating: 0, count: channels)
                paddedSignificands.withUnsafeMutableBufferPointer { significand in
                    paddedShifts.withUnsafeMutableBufferPointer { shift in
                        var rq = ck_requant(input_offset: 0, output_offset: outputOffset, activation_min: low,
                                            activation_max: high, significand: significand.baseAddress,
                                            shift: shift.baseAddress, is_signed: signed ? 1 : 0)
                        ck_depthwise_q(input, &window, filter, &rq, &output, 0, 1)
                    }
                }
                let values = output.map { signed ? Int32(Int8(bitPattern: $0)) : Int32($0) }
                #expect(values == expected, "\(signed ? "int8" : "uint8") on \(path)")
            }
        }
    }
}
