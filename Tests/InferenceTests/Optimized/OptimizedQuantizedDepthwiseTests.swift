import CKernels
import Testing
@testable import Inference

// The 8-bit depthwise kernel's AVX-512 VNNI path (3x3 interior pixels through vpdpbusd: 64-channel
// blocks, or pixel pairs with exactly 32 channels; its own requantization on 64-bit lanes) against the
// reference kernel: outputs must be EXACTLY equal. The images are large enough (>= 16 interior pixels
// per call) for the path to run, also split over 3 threads; every instruction set this CPU has runs too.

private struct DepthwiseCase {
    var channels: Int, height: Int, width: Int, stride: Int, same: Bool
    /// Zero points at the ends of the type, mostly extreme elements, tiny output scales, huge biases.
    var extreme = false
    /// uint8 filters within 127 of their zero point, so filter minus zero point fits int8 (the VNNI path).
    var nearZeroPoint = false
}

private func extremes<T: Quantized.Element>(_ count: Int, _: T.Type, _ random: inout SeededRandom) -> [T] {
    (0..<count).map { _ in
        switch random.int(0...3) {
        case 0, 1: return T.min
        case 2: return T.max
        default: return T(truncatingIfNeeded: random.next())
        }
    }
}

private func checkDepthwise<T: Quantized.Element>(_: T.Type, _ shape: DepthwiseCase, random: inout SeededRandom) throws {
    let signed = T.self == Int8.self, c = shape.channels
    let xShape = [1, shape.height, shape.width, c], wShape = [1, 3, 3, c]
    let padding: Quantized.Padding = shape.same ? .same : .valid
    let yShape = try Quantized.convolutionOutputShape(
        .depthwise(depthMultiplier: 1), inputShape: xShape, filterShape: wShape, strideHeight: shape.stride,
        strideWidth: shape.stride, dilationHeight: 1, dilationWidth: 1, padding: padding)
    let range = signed ? -128...127 : 0...255
    func zeroPoint() -> Int32 {
        Int32(shape.extreme ? (random.int(0...1) == 0 ? range.lowerBound : range.upperBound) : random.int(range))
    }
    let inputQ = Quantized.TensorQuantization(scales: [0.02 + random.unit() * 0.05], zeroPoints: [zeroPoint()])
    let outputScale = shape.extreme ? 0.000_05 + random.unit() * 0.01 : 0.05 + random.unit() * 0.3
    let outputQ = Quantized.TensorQuantization(scales: [outputScale], zeroPoints: [zeroPoint()])
    let filterZeroPoint: Int32 = signed ? 0 : (shape.nearZeroPoint ? Int32(random.int(100...155)) : zeroPoint())
    let filterQ: Quantized.TensorQuantization = signed
        ? .init(scales: (0..<c).map { _ in 0.001 + random.unit() * 0.02 }, zeroPoints: .init(repeating: 0, count: c),
                quantizedDimension: 3)
        : .init(scales: [0.001 + random.unit() * 0.02], zeroPoints: [filterZeroPoint])
    let activation: [Quantized.FusedActivation] = [.none, .relu, .relu6]
    let params = try Quantized.convolutionParams(
        .depthwise(depthMultiplier: 1), elementType: T.self, input: inputQ, inputShape: xShape, filter: filterQ,
        filterShape: wShape, output: outputQ, strideHeight: shape.stride, strideWidth: shape.stride, dilationHeight: 1,
        dilationWidth: 1, padding: padding, activation: activation[random.int(0...2)])
    let input = shape.extreme ? extremes(xShape.reduce(1, *), T.self, &random) : random.elements(xShape.reduce(1, *), T.self)
    var filter = shape.extreme ? extremes(wShape.reduce(1, *), T.self, &random) : random.elements(wShape.reduce(1, *), T.self)
    if shape.nearZeroPoint {
        filter = filter.indices.map { _ in T(truncatingIfNeeded: min(max(Int(filterZeroPoint) + random.int(-128...127), 0), 255)) }
    }
    let biasRange = shape.extreme ? Int(Int32.min)...Int(Int32.max) : -20000...20000
    let bias = (0..<c).map { _ in Int32(random.int(biasRange)) }
    let count = yShape.reduce(1, *)
    var reference = [T](repeating: 0, count: count)
    try input.withUnsafeBufferPointer { x in
        try filter.withUnsafeBufferPointer { w in
            try bias.withUnsafeBufferPointer { b in
                try reference.withUnsafeMutableBufferPointer { y in
                    try Quantized.depthwiseConv2D(input: x, inputShape: xShape, filter: w, filterShape: wShape, bias: b,
                                                  output: y, outputShape: yShape, params: params)
                }
            }
        }
    }
    defer { KernelPath.restoreDefault() }
    for path in kernelPaths {
        path.activate()
        for threads in [1, 3] {
            var optimized = [T](repeating: 0, count: count)
            input.withUnsafeBytes { x in
                filter.withUnsafeBytes { w in
                    bias.withUnsafeBufferPointer { b in
                        optimized.withUnsafeMutableBytes { y in
                            OptimizedQuantizedKernels.DepthwiseConv2D(
                                filter: w.baseAddress!, bias: b.baseAddress, isSigned: signed, inputShape: xShape,
                                filterShape: wShape, outputShape: yShape, params: params, threads: threads)
                                .run(input: x.baseAddress!, output: y.baseAddress!)
                        }
                    }
                }
            }
            let mismatch = optimized.indices.first { optimized[$0] != reference[$0] }
            #expect(mismatch == nil, """
                \(T.self) x\(xShape) s\(shape.stride) \(padding)\(shape.extreme ? " extreme" : "") on \(path) \
                x\(threads): first mismatch at \(mismatch ?? -1)
                """)
        }
    }
}

/// A 3x3 stride-1 VALID depthwise layer over an all-zero 8x6 input on every kernel path: its 24 output
/// pixels are all interior, so with input offset 0 each is requantize(its channel's bias). Returns each
/// path's pixels as rows of `channels` values; `rq` must point at live multipliers.
private func zeroInputPixels(filter: [Int32], channels: Int, rq: ck_requant) -> [(path: KernelPath, pixels: [[Int32]])] {
    let input = [UInt8](repeating: 0, count: 8 * 6 * channels)
    var window = ck_window(input_height: 8, input_width: 6, channels: Int32(channels), output_height: 6,
                           output_width: 4, filter_height: 3, filter_width: 3, stride_height: 1, stride_width: 1,
                           dilation_height: 1, dilation_width: 1, pad_top: 0, pad_left: 0)
    var rq = rq
    defer { KernelPath.restoreDefault() }
    return kernelPaths.map { path in
        path.activate()
        var output = [UInt8](repeating: 0, count: 24 * channels)
        ck_depthwise_q(input, &window, filter, &rq, &output, 0, 6)
        return (path, (0..<24).map { pixel in
            output[(pixel * channels)..<((pixel + 1) * channels)].map { rq.is_signed != 0 ? Int32(Int8(bitPattern: $0)) : Int32($0) }
        })
    }
}

/// In the serialized suite of the other 8-bit kernel tests: every test switches the process-wide
/// instruction set (ck_force_isa), so none may run alongside another.
extension OptimizedQuantizedKernelTests {
    /// 64-channel blocks (past the last full one, 16, 32 or 48 channels: 16-lane vectors inside the image,
    /// a partial block under a mask at its border, or everywhere without VBMI), and the 32-channel
    /// pixel pairs with an odd count of interior pixels per row, at stride 1 and 2, SAME and VALID.
    @Test func vnniDepthwiseEqualsReferenceExactly() throws {
        var random = SeededRandom(state: 71)
        for (round, channels) in [32, 64, 96, 128, 144, 192, 32, 64, 16, 48, 80, 208].enumerated() {
            for stride in [1, 2] {
                let shape = DepthwiseCase(channels: channels, height: random.int(9...21), width: random.int(9...21),
                                          stride: stride, same: (round + stride) % 2 == 0, extreme: round % 3 == 2)
                try checkDepthwise(Int8.self, shape, random: &random)
            }
        }
    }

    /// uint8 with filters near their zero point (taps fit int8: the VNNI path) and with arbitrary ones
    /// (they do not: the vpmaddwd path), ordinary and extreme.
    @Test func vnniDepthwiseUInt8EqualsReferenceExactly() throws {
        var random = SeededRandom(state: 73)
        for (round, channels) in [32, 64, 128, 96, 144, 48].enumerated() {
            for stride in [1, 2] {
                var shape = DepthwiseCase(channels: channels, height: random.int(9...19), width: random.int(9...19),
                                          stride: stride, same: round % 2 == 0, extreme: round % 2 == 1,
                                          nearZeroPoint: true)
                try checkDepthwise(UInt8.self, shape, random: &random)
                shape.nearZeroPoint = false
                try checkDepthwise(UInt8.self, shape, random: &random)
            }
        }
    }

    /// The 64-bit-lane requantization on its own: an all-zero 3x3 filter (it fits int8) over zero inputs
    /// leaves every interior accumulator equal to its bias, so each output is requantize(bias) of its
    /// channel, compared with Quantized.multiplyByQuantizedMultiplier for exact ties of both roundings,
    /// the largest shifts, wrapping left shifts and negative significands. The first channel's significand
    /// INT32_MIN (the reference saturates) must send the layer down the other path, still exact. With 112
    /// channels the same cases also go through the tail past the 64-channel block (requantize16 there).
    @Test(arguments: [64, 112])
    func vnniRequantizationEqualsReferenceArithmetic(channels: Int) throws {
        var random = SeededRandom(state: 79)
        for saturating in [false, true] {
            var accumulators = (0..<channels).map { _ in Int32(truncatingIfNeeded: random.next()) }
            var significands = (0..<channels).map { _ in Int32(truncatingIfNeeded: random.next()) | 1 }
            var shifts = (0..<channels).map { _ in Int32(random.int(-31...31)) }
            let ties: [(Int32, Int32, Int32)] = [
                (3, 1 << 30, 0), (-3, 1 << 30, 0), (6, 1 << 30, -1), (-6, 1 << 30, -1), (5, 1 << 30, -1),
                (-5, 1 << 30, -1), (1 << 20, .max, 31), (-(1 << 20) - 1, 1 << 30, -31), (.min, .max, -31),
                (.max, .max, -31), (.min, -(1 << 30), 0), (.max, .max, 0), (.min, .max, 0), (-1, .max, 0),
                (-1, .max, -3), (12, 1 << 30, -2), (-12, 1 << 30, -2), (-10, 1 << 30, -2),
            ]
            for (i, tie) in ties.enumerated() {
                (accumulators[i + 1], significands[i + 1], shifts[i + 1]) = tie
                // and in the channels past the 64-channel block (the tail's 16-lane vectors)
                if channels > 64 { (accumulators[64 + i], significands[64 + i], shifts[64 + i]) = tie }
            }
            if saturating { (accumulators[0], significands[0], shifts[0]) = (.min, .min, 0) }
            for signed in [true, false] {
                let outputOffset: Int32 = signed ? 3 : 130
                let low: Int32 = signed ? -128 : 0, high: Int32 = signed ? 127 : 255
                let expected = (0..<channels).map { c in
                    min(max(Quantized.multiplyByQuantizedMultiplier(accumulators[c], significands[c], shifts[c]) &+ outputOffset, low), high)
                }
                var filter = [Int32](repeating: 0, count: ck_depthwise_q_packed_count(9, Int32(channels)))
                ck_depthwise_q_pack([UInt8](repeating: 0, count: 9 * channels), signed ? 1 : 0, 0, 0, accumulators, 9,
                                    Int32(channels), &filter)
                let results = significands.withUnsafeMutableBufferPointer { significand in
                    shifts.withUnsafeMutableBufferPointer { shift in
                        zeroInputPixels(filter: filter, channels: channels, rq: ck_requant(
                            input_offset: 0, output_offset: outputOffset, activation_min: low, activation_max: high,
                            significand: significand.baseAddress, shift: shift.baseAddress, is_signed: signed ? 1 : 0))
                    }
                }
                for (path, pixels) in results {
                    for (pixel, values) in pixels.enumerated() {
                        #expect(values == expected, "\(signed ? "int8" : "uint8") saturating \(saturating) on \(path) pixel \(pixel)")
                    }
                }
            }
        }
    }

    /// The narrow (32-bit-lane) requantization on its own, as above (zero filter and input, so every
    /// output is requantize(bias) of its channel) but with accumulators small enough for it: exact ties of
    /// both roundings on both signs, right shifts 0...20, under four clamps: the type's range and one
    /// starting one below the output offset (negative ties survive: they must round away from zero), relu
    /// (the clamp starts at the offset: the kernel skips the negative-tie correction) and one above it.
    @Test(arguments: [64, 112])
    func vnniNarrowRequantizationRoundsTiesLikeReference(channels: Int) throws {
        var random = SeededRandom(state: 83)
        let shifts = (0..<channels).map { _ in Int32(-random.int(0...20)) }
        let significands = (0..<channels).map { c in c % 3 == 2 ? Int32(random.int(1 << 30...Int(Int32.max))) : Int32(1 << 30) }
        // Significand 2^30 makes the doubling high product floor((acc + 1) / 2): acc = 2t and 2t - 1 give t,
        // an odd multiple of 2^(r - 1) for the rounding right shift by r.
        // The first eight channels of the block and of the tail past it (112 = 64 + 32 + 16 channels: the
        // tail's two-vector and one-vector chunks) tie at -1.5...1.5, where a clamp one below the offset
        // tells the roundings apart.
        let accumulators = shifts.enumerated().map { c, shift -> Int32 in
            let r = Int(-shift), m = c % 64 < 8 ? random.int(-2...1) : random.int(-40...40)
            let tie = r == 0 ? m : (2 * m + 1) << (r - 1)
            return Int32(2 * tie - random.int(0...1) + (random.int(0...3) == 0 ? random.int(-2...2) : 0))
        }
        for signed in [true, false] {
            let low: Int32 = signed ? -128 : 0, high: Int32 = signed ? 127 : 255
            for outputOffset in [signed ? Int32(-3) : 130, low] {
                for (name, minimum) in [("full", low), ("one below the offset", max(outputOffset - 1, low)), ("relu", outputOffset),
                                        ("above", min(outputOffset + 3, high))] {
                    let expected = (0..<channels).map { c in
                        min(max(Quantized.multiplyByQuantizedMultiplier(accumulators[c], significands[c], shifts[c]) &+ outputOffset,
                                minimum), high)
                    }
                    var filter = [Int32](repeating: 0, count: ck_depthwise_q_packed_count(9, Int32(channels)))
                    ck_depthwise_q_pack([UInt8](repeating: 0, count: 9 * channels), signed ? 1 : 0, 0, 0, accumulators, 9,
                                        Int32(channels), &filter)
                    var significand = significands + [Int32](repeating: 0, count: 16), shift = shifts + [Int32](repeating: 0, count: 16)
                    let context = "\(signed ? "int8" : "uint8") offset \(outputOffset) clamp \(name)"
                    let results = significand.withUnsafeMutableBufferPointer { significand in
                        shift.withUnsafeMutableBufferPointer { shift in
                            var rq = ck_requant(input_offset: 0, output_offset: outputOffset, activation_min: minimum,
                                                activation_max: high, significand: significand.baseAddress,
                                                shift: shift.baseAddress, is_signed: signed ? 1 : 0)
                            #expect(ck_depthwise_q_mark_narrow(&filter, 9, Int32(channels), &rq) == 1,
                                    "\(context) should take the narrow requantization")
                            return zeroInputPixels(filter: filter, channels: channels, rq: rq)
                        }
                    }
                    for (path, pixels) in results {
                        for (pixel, values) in pixels.enumerated() {
                            #expect(values == expected, "\(context) on \(path) pixel \(pixel)")
                        }
                    }
                }
            }
        }
    }

    /// ck_depthwise_q_fold_constant_channels: a 3x3 filter of ones over zero inputs (input offset 0) leaves
    /// every accumulator at its bias, and the fold must allow for any input: |acc - bias| <= 9 * 255. With
    /// significand 2^30 the high product is floor((acc + 1) / 2), so at a right shift r the value is 0 while
    /// it stays below 2^(r - 1). Under relu (offset -128) the dead channels (bias near -2^30) and those whose
    /// bias + 2295 still maps to 0 fold, one step above does not; in a linear layer (offset 5) only the
    /// boundary ones fold, and the dead biases keep the layer off the narrow requantization. Outputs are
    /// compared with the reference arithmetic on the original multipliers.
    @Test func constantChannelsFoldInDepthwiseLayers() throws {
        var random = SeededRandom(state: 89)
        let channels = 64, margin = Int32(9 * 255)
        for relu in [true, false] {
            // relu: value 0 up to acc 14 at r = 4; linear: up to 262142 at r = 18 (h = 131071 < 2^17).
            let (right, top): (Int32, Int32) = relu ? (4, 14) : (18, 262_142)
            var significands: [Int32] = [], shifts: [Int32] = [], biases: [Int32] = []
            for c in 0..<channels {
                switch c % 4 {
                case 0:
                    (significands, shifts) = (significands + [Int32(random.int(1 << 30...Int(Int32.max)))], shifts + [-24])
                    biases.append(-(1 << 30) + Int32(c))
                case 1, 2:
                    (significands, shifts) = (significands + [1 << 30], shifts + [-right])
                    biases.append(top - margin + Int32(c % 4 - 1))
                default:  // values about 10...80 from the bias, moving with the input
                    (significands, shifts) = (significands + [Int32(random.int(1 << 30...Int(Int32.max)))], shifts + [-8])
                    biases.append(Int32(random.int(5000...20000)))
                }
            }
            let outputOffset: Int32 = relu ? -128 : 5
            let expected = (0..<channels).map { c in
                min(max(Quantized.multiplyByQuantizedMultiplier(biases[c], significands[c], shifts[c]) &+ outputOffset, -128), 127)
            }
            var filter = [Int32](repeating: 0, count: ck_depthwise_q_packed_count(9, Int32(channels)))
            ck_depthwise_q_pack([UInt8](repeating: 1, count: 9 * channels), 1, 0, 0, biases, 9, Int32(channels), &filter)
            var significand = significands + [Int32](repeating: 0, count: 16), shift = shifts + [Int32](repeating: 0, count: 16)
            var folded: Int32 = 0, narrow: Int32 = 0
            let results = significand.withUnsafeMutableBufferPointer { significand in
                shift.withUnsafeMutableBufferPointer { shift in
                    var rq = ck_requant(input_offset: 0, output_offset: outputOffset, activation_min: -128, activation_max: 127,
                                        significand: significand.baseAddress, shift: shift.baseAddress, is_signed: 1)
                    folded = ck_depthwise_q_fold_constant_channels(filter, 9, Int32(channels), &rq, significand.baseAddress,
                                                                   shift.baseAddress)
                    narrow = ck_depthwise_q_mark_narrow(&filter, 9, Int32(channels), &rq)
                    return zeroInputPixels(filter: filter, channels: channels, rq: rq)
                }
            }
            for (path, pixels) in results {
                for (pixel, values) in pixels.enumerated() {
                    #expect(values == expected, "\(relu ? "relu" : "linear") on \(path) pixel \(pixel)")
                }
            }
            #expect(folded == (relu ? 32 : 16))
            #expect((narrow != 0) == relu)
        }
    }
}
