import Testing
@testable import Inference

// Every expected value here is worked out by hand from the op's definition (see each comment).

private func run<T>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> T) -> [Float] {
    let out = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { out.deallocate() }
    out.initialize(repeating: .nan, count: count)
    _ = body(out)
    return Array(UnsafeBufferPointer(start: out, count: count))
}

private func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

@Test func samePaddingMatchesTFLiteFormula() {
    // 300, 3x3, stride 2: out ceil(300/2) = 150, total padding (149*2 + 3 - 300) = 1 -> 0 before, 1 after.
    #expect(WindowGeometry.outputSizeAndPadding(inputSize: 300, filterSize: 3, stride: 2, dilation: 1, same: true)
        == (150, 0))
    // 150, 3x3, stride 1: total padding 2 -> 1 before.
    #expect(WindowGeometry.outputSizeAndPadding(inputSize: 150, filterSize: 3, stride: 1, dilation: 1, same: true)
        == (150, 1))
    // VALID, 10, filter 3, stride 3: windows start at 0, 3, 6.
    #expect(WindowGeometry.outputSizeAndPadding(inputSize: 10, filterSize: 3, stride: 3, dilation: 1, same: false)
        == (3, 0))
    // Dilation 2 makes a 3-tap filter span 5: VALID on 5 inputs gives one output.
    #expect(WindowGeometry.outputSizeAndPadding(inputSize: 5, filterSize: 3, stride: 1, dilation: 2, same: false)
        == (1, 0))
}

@Test func conv2DSamePaddingStrideTwoBiasAndRelu6() {
    // Input 3x3 [1..9]; filter 2x2 [[1,0],[0,-1]]; stride 2, SAME: out 2x2, no padding before, one after.
    // (0,0): 1 - 5 = -4; (0,1): 3 (the -1 tap falls off the right); (1,0): 7; (1,1): 9. Bias +0.5.
    let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let filter: [Float] = [1, 0, 0, -1]
    let bias: [Float] = [0.5]
    let g = WindowGeometry(batches: 1, inputHeight: 3, inputWidth: 3, outputHeight: 2, outputWidth: 2,
                           filterHeight: 2, filterWidth: 2, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0)
    let plain = run(4) { out in
        FloatKernels.conv2D(input: input, inputChannels: 1, filter: filter, bias: bias, output: out,
                            outputChannels: 1, geometry: g, clamp: .unbounded)
    }
    #expect(plain == [-3.5, 3.5, 7.5, 9.5])
    let clamped = run(4) { out in
        FloatKernels.conv2D(input: input, inputChannels: 1, filter: filter, bias: bias, output: out,
                            outputChannels: 1, geometry: g, clamp: .relu6)
    }
    #expect(clamped == [0, 3.5, 6, 6])
}

@Test func conv2DFilterLayoutIsOutputChannelMajor() {
    // 1x1 conv of the pixel [2, 3]: filter rows are output channels: [1, 1] -> 5, [10, -1] -> 17.
    let g = WindowGeometry(batches: 1, inputHeight: 1, inputWidth: 1, outputHeight: 1, outputWidth: 1,
                           filterHeight: 1, filterWidth: 1, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0)
    let out = run(2) { out in
        FloatKernels.conv2D(input: [2, 3], inputChannels: 2, filter: [Float](arrayLiteral: 1, 1, 10, -1),
                            bias: nil as UnsafePointer<Float>?, output: out, outputChannels: 2, geometry: g,
                            clamp: .unbounded)
    }
    #expect(out == [5, 17])
}

@Test func conv2DReadsFloat16WeightsOnTheFly() {
    // Same case as above with float16 weights (exactly representable): identical results.
    let g = WindowGeometry(batches: 1, inputHeight: 1, inputWidth: 1, outputHeight: 1, outputWidth: 1,
                           filterHeight: 1, filterWidth: 1, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0)
    let filter: [Float16] = [1, 1, 10, -1]
    let bias: [Float16] = [0.5, -0.5]
    let out = run(2) { out in
        FloatKernels.conv2D(input: [2, 3], inputChannels: 2, filter: filter, bias: bias, output: out,
                            outputChannels: 2, geometry: g, clamp: .unbounded)
    }
    #expect(out == [5.5, 16.5])
}

@Test func depthwiseWithDepthMultiplierTwo() {
    // Input 2x2, channels c0 = [1,2,3,4], c1 = [10,20,30,40] (row-major positions); multiplier 2 gives
    // outputs (c0,m0), (c0,m1), (c1,m0), (c1,m1). Filter per position [oc0, oc1, oc2, oc3]:
    // oc0 all ones -> 1+2+3+4 = 10; oc1 only (0,0) -> 1; oc2 all ones -> 100; oc3 only (1,1) -> 40.
    // Bias [0, 1, 2, 3] -> [10, 2, 102, 43].
    let input: [Float] = [1, 10, 2, 20, 3, 30, 4, 40]
    let filter: [Float] = [1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1]
    let g = WindowGeometry(batches: 1, inputHeight: 2, inputWidth: 2, outputHeight: 1, outputWidth: 1,
                           filterHeight: 2, filterWidth: 2, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0)
    let out = run(4) { out in
        FloatKernels.depthwiseConv2D(input: input, inputChannels: 2, depthMultiplier: 2, filter: filter,
                                     bias: [Float](arrayLiteral: 0, 1, 2, 3), output: out, geometry: g,
                                     clamp: .unbounded)
    }
    #expect(out == [10, 2, 102, 43])
}

@Test func depthwiseSamePaddingSkipsOutsideTaps() {
    // 1 channel, input 2x2 [1,2,3,4], 3x3 all-ones filter, SAME stride 1 (padding 1 before): every output
    // sums the whole input (all four pixels are within one step) = 10; RELU_N1_TO_1 clamps to 1.
    let g = WindowGeometry(batches: 1, inputHeight: 2, inputWidth: 2, outputHeight: 2, outputWidth: 2,
                           filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, padTop: 1, padLeft: 1)
    let ones = [Float](repeating: 1, count: 9)
    let out = run(4) { out in
        FloatKernels.depthwiseConv2D(input: [1, 2, 3, 4], inputChannels: 1, depthMultiplier: 1, filter: ones,
                                     bias: nil as UnsafePointer<Float>?, output: out, geometry: g, clamp: .unbounded)
    }
    #expect(out == [10, 10, 10, 10])
    let clamped = run(4) { out in
        FloatKernels.depthwiseConv2D(input: [1, 2, 3, 4], inputChannels: 1, depthMultiplier: 1, filter: ones,
                                     bias: nil as UnsafePointer<Float>?, output: out, geometry: g, clamp: .reluN1To1)
    }
    #expect(clamped == [1, 1, 1, 1])
}

@Test func poolingCountsOnlyInBoundsInputs() {
    // 3x3 [1..9], 2x2 window, stride 2, SAME: windows {1,2,4,5}, {3,6}, {7,8}, {9}.
    let g = WindowGeometry(batches: 1, inputHeight: 3, inputWidth: 3, outputHeight: 2, outputWidth: 2,
                           filterHeight: 2, filterWidth: 2, strideHeight: 2, strideWidth: 2, padTop: 0, padLeft: 0)
    let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    #expect(run(4) { FloatKernels.averagePool2D(input: input, output: $0, channels: 1, geometry: g, clamp: .unbounded) }
        == [3, 4.5, 7.5, 9])
    #expect(run(4) { FloatKernels.maxPool2D(input: input, output: $0, channels: 1, geometry: g, clamp: .unbounded) }
        == [5, 6, 8, 9])
}

@Test func binaryOpsBroadcast() {
    // [[1,2,3],[4,5,6]] + [10,20,30] row-wise; * [[2],[3]] column-wise; [1,2,3] - 2 with RELU.
    let a: [Float] = [1, 2, 3, 4, 5, 6]
    let rows = FloatKernels.BroadcastShapes(left: [2, 3], right: [3])!
    #expect(rows.outputShape(rank: 2) == [2, 3])
    #expect(run(6) { FloatKernels.add(a, [10, 20, 30], output: $0, shapes: rows, clamp: .unbounded) }
        == [11, 22, 33, 14, 25, 36])
    let columns = FloatKernels.BroadcastShapes(left: [2, 3], right: [2, 1])!
    #expect(run(6) { FloatKernels.mul(a, [2, 3], output: $0, shapes: columns, clamp: .unbounded) }
        == [2, 4, 6, 12, 15, 18])
    let scalar = FloatKernels.BroadcastShapes(left: [3], right: [])!
    #expect(run(3) { FloatKernels.sub([1, 2, 3], [2], output: $0, shapes: scalar, clamp: .relu) } == [0, 0, 1])
    #expect(FloatKernels.BroadcastShapes(left: [2, 3], right: [2]) == nil)
}

@Test func logisticFollowsTFLiteCutoffs() {
    // 0 -> 1/2; 2 -> 1/(1+e^-2) = 0.880797; above 16.619 exactly 1; below -9 exp(x): e^-10 = 4.539993e-5.
    let out = run(4) { FloatKernels.logistic([0, 2, 20, -10], output: $0, count: 4) }
    #expect(close(out, [0.5, 0.880797, 1, 4.539993e-5]))
    #expect(out[2] == 1)
}

@Test func softmaxWithBeta() {
    // [1,2,3]: e^-2, e^-1, 1 over their sum 1.5032147 -> 0.0900306, 0.2447285, 0.6652410. beta 0 -> 1/3 each.
    #expect(close(run(3) { FloatKernels.softmax([1, 2, 3], output: $0, rows: 1, depth: 3, beta: 1) },
                  [0.0900306, 0.2447285, 0.6652410]))
    #expect(close(run(3) { FloatKernels.softmax([1, 2, 3], output: $0, rows: 1, depth: 3, beta: 0) },
                  [1.0 / 3, 1.0 / 3, 1.0 / 3]))
    // Two rows are independent: the second row [5, 5] -> [0.5, 0.5].
    #expect(close(run(4) { FloatKernels.softmax([0, 0, 5, 5], output: $0, rows: 2, depth: 2, beta: 1) },
                  [0.5, 0.5, 0.5, 0.5]))
}

@Test func resizeBilinearModes() {
    // Input [[0,10],[20,30]] is 10*x + 20*y, so every bilinear sample is 10*X + 20*Y of its source
    // coordinates (clamped to [0,1]).
    let input: [Float] = [0, 10, 20, 30]
    func resize(_ size: Int, align: Bool, half: Bool) -> [Float] {
        run(size * size) {
            FloatKernels.resizeBilinear(input, output: $0, params: .init(
                batches: 1, inputHeight: 2, inputWidth: 2, channels: 1, outputHeight: size, outputWidth: size,
                alignCorners: align, halfPixelCenters: half))
        }
    }
    func grid(_ coordinates: [Float]) -> [Float] {
        coordinates.flatMap { y in coordinates.map { x in 10 * x + 20 * y } }
    }
    // Default: source = i * 2/3 -> 0, 2/3, 4/3 (clamped to 1).
    #expect(close(resize(3, align: false, half: false), grid([0, 2.0 / 3, 1])))
    // align_corners: scale (2-1)/(3-1) = 1/2 -> 0, 0.5, 1.
    #expect(close(resize(3, align: true, half: false), grid([0, 0.5, 1])))
    // half_pixel_centers to 4: (i + 0.5) * 0.5 - 0.5 -> -0.25 (row 0), 0.25, 0.75, 1.25 (row 1).
    #expect(close(resize(4, align: false, half: true), grid([0, 0.25, 0.75, 1])))
}

@Test func meanOverAxes() {
    // [[1,2,3],[4,5,6]]: over axis 1 -> [2, 5]; over axis 0 -> [2.5, 3.5, 4.5]; over both -> 3.5.
    let x: [Float] = [1, 2, 3, 4, 5, 6]
    #expect(run(2) { FloatKernels.mean(x, inputShape: [2, 3], reduced: [false, true], output: $0) } == [2, 5])
    #expect(run(3) { FloatKernels.mean(x, inputShape: [2, 3], reduced: [true, false], output: $0) } == [2.5, 3.5, 4.5])
    #expect(run(1) { FloatKernels.mean(x, inputShape: [2, 3], reduced: [true, true], output: $0) } == [3.5])
    // NHWC spatial mean (the usual use): 1x2x2x2, channels [1,3,5,7] and [2,4,6,8] -> [4, 5].
    #expect(run(2) { FloatKernels.mean([1, 2, 3, 4, 5, 6, 7, 8], inputShape: [1, 2, 2, 2],
                                       reduced: [false, true, true, false], output: $0) } == [4, 5])
}

@Test func dequantizeAndQuantize() {
    // int8 (q - zp) * scale with scale 0.5, zp -1: -128 -> -63.5, 0 -> 0.5, 127 -> 64.
    let q: [Int8] = [-128, 0, 127]
    #expect(run(3) { FloatKernels.dequantize(q, output: $0, count: 3, scales: [0.5], zeroPoints: [-1]) }
        == [-63.5, 0.5, 64])
    // Per channel along dimension 0 of [2, 2]: scales [1, 2] -> [[1,2],[6,8]].
    let pc: [Int8] = [1, 2, 3, 4]
    #expect(run(4) { FloatKernels.dequantize(pc, output: $0, count: 4, scales: [1, 2], zeroPoints: [0, 0], innerCount: 2) }
        == [1, 2, 6, 8])
    // Quantize with scale 0.5: 0.25/0.5 = 0.5 rounds away from zero to 1; -0.25 -> -1; -0.74 -> -1.48 -> -1;
    // 100 -> 200 clamps to 127; NaN -> zero point.
    var out = [Int8](repeating: 0, count: 5)
    FloatKernels.quantize([0.25, -0.25, -0.74, 100, .nan], output: &out, count: 5, scale: 0.5, zeroPoint: 0)
    #expect(out == [1, -1, -1, 127, 0])
    // uint8, scale 1, zp 128: -200 -> clamps to 0; 0.5 -> 1 + 128 = 129.
    var u = [UInt8](repeating: 0, count: 2)
    FloatKernels.quantize([-200, 0.5], output: &u, count: 2, scale: 1, zeroPoint: 128)
    #expect(u == [0, 129])
}

@Test func float16WideningIsExactForEveryBitPattern() {
    // Oracle: the standard library's Float16 -> Float conversion.
    var mismatches = 0
    for bits in 0...UInt16.max {
        let ours = FloatKernels.widen(float16Bits: bits)
        let reference = Float(Float16(bitPattern: bits))
        if reference.isNaN ? !ours.isNaN : ours.bitPattern != reference.bitPattern { mismatches += 1 }
    }
    #expect(mismatches == 0)
}
