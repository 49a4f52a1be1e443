import CKernels
import Testing
@testable import Inference

// The fused 8-bit convolution (ck_conv_q) against the reference kernel, aimed at its own code paths:
// the narrow requantization (one 64-bit rounding add, saturating packs) on exact ties of both of
// TFLite's roundings, right shifts 0...20 and extreme output offsets; the general requantization at the
// edge of the accumulator bound, where the reference's int32 output-offset add wraps; and the tile
// shapes (16/32-channel rows stored as whole vectors, partial row groups, channels not a multiple of
// 16, gathered or in-place rows). Outputs must be EXACTLY equal on every instruction set.

/// A regular convolution with explicit quantization parameters.
private struct ConvCase<T: Quantized.Element> {
    var input: [T], inputShape: [Int]
    var filter: [T], filterShape: [Int]
    var bias: [Int32]?
    var outputShape: [Int]
    var params: Quantized.ConvParams
}

/// Runs the reference and the optimized kernel on every path with 1 and 2 threads; returns whether the
/// layer qualifies for the narrow requantization.
@discardableResult
private func expectOptimizedEqualsReference<T: Quantized.Element>(_ c: ConvCase<T>, _ context: String) throws -> Bool {
    let count = c.outputShape.reduce(1, *)
    var reference = [T](repeating: 0, count: count)
    try c.input.withUnsafeBufferPointer { x in
        try c.filter.withUnsafeBufferPointer { w in
            try reference.withUnsafeMutableBufferPointer { y in
                try Quantized.conv2D(input: x, inputShape: c.inputShape, filter: w, filterShape: c.filterShape,
                                     bias: c.bias?.withUnsafeBufferPointer { $0 }, output: y, outputShape: c.outputShape,
                                     params: c.params)
            }
        }
    }
    var narrow = false
    defer { KernelPath.restoreDefault() }
    for path in kernelPaths {
        path.activate()
        for threads in [1, 2] {
            var optimized = [T](repeating: 0, count: count)
            try c.input.withUnsafeBytes { x in
                try c.filter.withUnsafeBytes { w in
                    try optimized.withUnsafeMutableBytes { y in
                        let conv = try #require(OptimizedQuantizedKernels.Conv2D(
                            filter: w.baseAddress!, bias: c.bias?.withUnsafeBufferPointer { $0.baseAddress } ?? nil,
                            isSigned: T.self == Int8.self, inputShape: c.inputShape, filterShape: c.filterShape,
                            outputShape: c.outputShape, params: c.params, threads: threads))
                        narrow = conv.usesNarrowRequantization
                        conv.run(input: x.baseAddress!, output: y.baseAddress!)
                    }
                }
            }
            let mismatch = optimized.indices.first { optimized[$0] != reference[$0] }
            #expect(mismatch == nil, """
                \(context) on \(path) x\(threads): first mismatch at \(mismatch ?? -1) \
                (optimized \(mismatch.map { optimized[$0] }.map(String.init(describing:)) ?? "-"), \
                reference \(mismatch.map { reference[$0] }.map(String.init(describing:)) ?? "-"))
                """)
        }
    }
    return narrow
}

private func params(stride: Int = 1, padding: Int = 0, inputOffset: Int32, filterOffset: Int32, outputOffset: Int32,
                    multipliers: [Quantized.Multiplier], activation: Quantized.ActivationRange) -> Quantized.ConvParams {
    Quantized.ConvParams(strideHeight: stride, strideWidth: stride, dilationHeight: 1, dilationWidth: 1,
                         paddingHeight: padding, paddingWidth: padding, inputOffset: inputOffset,
                         filterOffset: filterOffset, outputOffset: outputOffset, outputMultipliers: multipliers,
                         activation: activation)
}

/// A 1x1 layer whose accumulator for output channel c at pixel p is bias[c] + (p - pixels / 2): channel 0
/// of the input sweeps consecutive values around its zero point, and every filter's only non-zero
/// effective weight (w + filter offset) is 1 on that channel.
private func sweepCase<T: Quantized.Element>(_: T.Type, channels: Int, filterZeroPoint: Int32, bias: [Int32],
                                             multipliers: [Quantized.Multiplier], outputOffset: Int32,
                                             activation: Quantized.ActivationRange,
                                             random: inout SeededRandom) -> ConvCase<T> {
    let height = 7, width = 7, depth = 4, pixels = height * width
    let signed = T.self == Int8.self
    let inputZeroPoint: Int32 = signed ? 0 : 128
    var input = random.elements(pixels * depth, T.self)
    for p in 0..<pixels { input[p * depth] = T(truncatingIfNeeded: Int(inputZeroPoint) + p - pixels / 2) }
    var filter = [T](repeating: T(truncatingIfNeeded: Int(filterZeroPoint)), count: channels * depth)
    for c in 0..<channels { filter[c * depth] = T(truncatingIfNeeded: Int(filterZeroPoint) + 1) }
    return ConvCase(input: input, inputShape: [1, height, width, depth], filter: filter,
                    filterShape: [channels, 1, 1, depth], bias: bias, outputShape: [1, height, width, channels],
                    params: params(inputOffset: -inputZeroPoint, filterOffset: -filterZeroPoint, outputOffset: outputOffset,
                                   multipliers: multipliers, activation: activation))
}

// An extension of the serialized OptimizedQuantizedKernelTests suite: a separate suite would run in parallel
// with it while both switch the process-wide instruction set.
extension OptimizedQuantizedKernelTests {
    /// Significand 2^30 halves the accumulator, so odd accumulators are exact ties of the doubling high
    /// multiply; biases at odd multiples of 2^r put ties of the rounding right shift, on both signs,
    /// inside each sweep. 16...48 channels cover the two-panel, one-panel and partial-panel tiles.
    @Test func narrowRequantizationRoundsTiesLikeReference() throws {
        var random = SeededRandom(state: 101)
        for channels in [16, 24, 32, 40, 48] {
        for signed in [true, false] {
            let (low, high): (Int32, Int32) = signed ? (-128, 127) : (0, 255)
            for outputOffset in [low, high, signed ? 0 : 128, Int32(random.int(Int(low)...Int(high)))] {
                let right = (0..<channels).map { _ in Int32(random.int(0...20)) }
                let multipliers = right.enumerated().map { c, r in
                    Quantized.Multiplier(significand: c % 3 == 2 ? Int32(random.int(1 << 30...Int(Int32.max))) : 1 << 30,
                                         shift: -r)
                }
                let bias = right.map { r in Int32((2 * random.int(-40...40) + 1) << Int(r)) + Int32(random.int(-2...2)) }
                // Full range (negative ties survive), a narrow clamp around the offset, or relu (the clamp starts
                // at the offset: the kernel may skip its negative-tie correction).
                let activation = [Quantized.ActivationRange(minimum: low, maximum: high),
                                  Quantized.ActivationRange(minimum: max(low, outputOffset - 20), maximum: min(high, outputOffset + 20)),
                                  Quantized.ActivationRange(minimum: outputOffset, maximum: high)][random.int(0...2)]
                for filterZeroPoint: Int32 in signed ? [0] : [128, 7] {  // uint8 7: row sums in the accumulator
                    let context = "\(signed ? "int8" : "uint8") sweep n\(channels) offset \(outputOffset) filter zp \(filterZeroPoint)"
                    let narrow = try signed
                        ? expectOptimizedEqualsReference(sweepCase(Int8.self, channels: channels, filterZeroPoint: filterZeroPoint,
                                                                   bias: bias, multipliers: multipliers, outputOffset: outputOffset,
                                                                   activation: activation, random: &random), context)
                        : expectOptimizedEqualsReference(sweepCase(UInt8.self, channels: channels, filterZeroPoint: filterZeroPoint,
                                                                   bias: bias, multipliers: multipliers, outputOffset: outputOffset,
                                                                   activation: activation, random: &random), context)
                    #expect(narrow, "\(context) should use the narrow requantization")
                }
            }
        }
        }
    }

    /// Accumulators just inside the bound take the narrow requantization; just outside, and where the
    /// reference's output-offset add wraps int32 (high product near 2^31), the general one; both exact.
    @Test func requantizationAtTheAccumulatorBoundEqualsReference() throws {
        var random = SeededRandom(state: 211)
        let channels = 16, k = 4
        // The bound is |bias - 128 (input offset correction)| + k * 255 * 128 < 2^30.
        let inside = Int32((1 << 30) - k * 255 * 128 - 1000)
        let cases: [(bias: Int32, narrow: Bool)] = [(inside, true), (-inside, true), (inside + 2000, false),
                                                    (Int32.max - 30, false), (Int32.min + 30, false)]
        for (bias, narrow) in cases {
            for outputOffset: Int32 in [-128, 127] {
                let multipliers = (0..<channels).map { c in
                    Quantized.Multiplier(significand: c % 2 == 0 ? Int32.max : 1 << 30, shift: c % 4 < 2 ? 0 : -1)
                }
                let c = sweepCase(Int8.self, channels: channels, filterZeroPoint: 0, bias: .init(repeating: bias, count: channels),
                                  multipliers: multipliers, outputOffset: outputOffset,
                                  activation: .init(minimum: -128, maximum: 127), random: &random)
                let used = try expectOptimizedEqualsReference(c, "bias \(bias) offset \(outputOffset)")
                #expect(used == narrow, "bias \(bias): narrow requantization \(used), expected \(narrow)")
            }
        }
    }

    /// The layer shapes of the models and the kernel's special cases, with parameters from real scales.
    @Test func modelShapesEqualReference() throws {
        var random = SeededRandom(state: 307)
        // input h, w, c, output channels, kernel, stride, same padding
        let shapes: [(h: Int, w: Int, c: Int, n: Int, kernel: Int, stride: Int)] = [
            (17, 19, 3, 32, 3, 2),   // the first layer: k = 27, gathered with padding
            (13, 11, 32, 16, 1, 1),  // n = 16: four rows per 64-byte store
            (9, 14, 16, 96, 1, 1),   // small k, several column tiles
            (7, 9, 24, 32, 1, 1),    // n = 32: two rows per 64-byte store
            (6, 5, 6, 40, 1, 1),     // channels not a multiple of 4: gathered per pixel
            (8, 8, 12, 24, 3, 1),    // 3x3 stride 1
            (5, 7, 130, 20, 1, 1),   // k > 128
        ]
        for shape in shapes {
            for signed in [true, false] {
                let padding = shape.kernel / 2
                let oh = (shape.h + 2 * padding - shape.kernel) / shape.stride + 1
                let ow = (shape.w + 2 * padding - shape.kernel) / shape.stride + 1
                let inputZeroPoint = Int32(signed ? random.int(-128...127) : random.int(0...255))
                let filterZeroPoint: Int32 = signed ? 0 : Int32(random.int(0...255))
                let outputZeroPoint = Int32(signed ? random.int(-128...127) : random.int(0...255))
                let multipliers = (0..<shape.n).map { _ in
                    Quantized.Multiplier(significand: Int32(random.int(1 << 30...Int(Int32.max))), shift: Int32(-random.int(6...12)))
                }
                let (low, high): (Int32, Int32) = signed ? (-128, 127) : (0, 255)
                let p = params(stride: shape.stride, padding: padding, inputOffset: -inputZeroPoint,
                               filterOffset: -filterZeroPoint, outputOffset: outputZeroPoint, multipliers: multipliers,
                               activation: .init(minimum: max(low, outputZeroPoint), maximum: high))
                let bias = (0..<shape.n).map { _ in Int32(random.int(-30000...30000)) }
                let inputShape = [1, shape.h, shape.w, shape.c], filterShape = [shape.n, shape.kernel, shape.kernel, shape.c]
                let outputShape = [1, oh, ow, shape.n]
                let context = "\(signed ? "int8" : "uint8") x\(inputShape) w\(filterShape) s\(shape.stride)"
                let narrow = try signed
                    ? expectOptimizedEqualsReference(ConvCase(
                        input: random.elements(inputShape.reduce(1, *), Int8.self), inputShape: inputShape,
                        filter: random.elements(filterShape.reduce(1, *), Int8.self), filterShape: filterShape, bias: bias,
                        outputShape: outputShape, params: p), context)
                    : expectOptimizedEqualsReference(ConvCase(
                        input: random.elements(inputShape.reduce(1, *), UInt8.self), inputShape: inputShape,
                        filter: random.elements(filterShape.reduce(1, *), UInt8.self), filterShape: filterShape, bias: bias,
                        outputShape: outputShape, params: p), context)
                #expect(narrow, "\(context) should use the narrow requantization")
            }
        }
    }

    /// Channels whose output cannot change (a dead relu channel's bias near -2^30, a tiny multiplier) get
    /// the multiplier 0, so the layer keeps the narrow requantization; outputs still equal the reference.
    /// Input zero point -128 makes each column term the bias, and every |accumulator - bias| is at most
    /// P = k * 255 * 128 (k = 4). With significand 2^30 the high product is floor((acc + 1) / 2), so at a
    /// right shift r the value is 0 while it stays below 2^(r - 1): the channels at the boundary fold when
    /// their largest accumulator, bias + P, maps to 0, and not one step above it.
    @Test func constantChannelsTakeMultiplierZeroAndKeepTheNarrowRequantization() throws {
        var random = SeededRandom(state: 401)
        let channels = 24, k = 4, p = Int32(k * 255 * 128)
        for relu in [true, false] {
            // relu: value 0 up to acc 14 at r = 4 (h = 7 < 8); linear: up to 262142 at r = 18 (h = 131071 < 2^17).
            let (right, top): (Int32, Int32) = relu ? (4, 14) : (18, 262_142)
            var multipliers: [Quantized.Multiplier] = [], bias: [Int32] = []
            for c in 0..<channels {
                switch c % 4 {
                case 0:  // dead under relu: every accumulator negative
                    multipliers.append(.init(significand: Int32(random.int(1 << 30...Int(Int32.max))), shift: -24))
                    bias.append(-(1 << 30) + Int32(c))
                case 1, 2:  // at the boundary: folds (1), one above (2)
                    multipliers.append(.init(significand: 1 << 30, shift: -right))
                    bias.append(top - p + Int32(c % 4 - 1))
                default:
                    multipliers.append(.init(significand: Int32(random.int(1 << 30...Int(Int32.max))), shift: -8))
                    bias.append(Int32(random.int(-20000...20000)))
                }
            }
            let outputOffset: Int32 = relu ? -128 : 5
            let inputShape = [1, 7, 9, k], filterShape = [channels, 1, 1, k], outputShape = [1, 7, 9, channels]
            let c = ConvCase(input: random.elements(63 * k, Int8.self), inputShape: inputShape,
                             filter: random.elements(channels * k, Int8.self), filterShape: filterShape, bias: bias,
                             outputShape: outputShape,
                             params: params(inputOffset: 128, filterOffset: 0, outputOffset: outputOffset,
                                            multipliers: multipliers, activation: .init(minimum: -128, maximum: 127)))
            try expectOptimizedEqualsReference(c, relu ? "relu" : "linear")
            let conv = try c.filter.withUnsafeBytes { w in
                try #require(OptimizedQuantizedKernels.Conv2D(
                    filter: w.baseAddress!, bias: bias, isSigned: true, inputShape: inputShape, filterShape: filterShape,
                    outputShape: outputShape, params: c.params, threads: 1))
            }
            // relu: the dead and the folding boundary channels; linear: the folding boundary ones only (the
            // large negative biases give values near -40 there), and those biases keep the layer wide.
            #expect(conv.constantChannels == (relu ? 12 : 6))
            #expect(conv.usesNarrowRequantization == relu)
        }
    }
}
