import CKernels
import Testing
@testable import Inference

// The optimized float kernels against the reference kernels (the oracle) on random shapes, on every
// instruction set this CPU has (passed to each kernel: forcing the process-wide choice would change it
// under other tests' interpreters running in parallel) and with several thread counts (splitting even
// the tiny test shapes).
//
// Tolerance: both compute the same sum of products in a different rounding (fused multiply-add, other
// association), so each output may differ by a few float32 roundings of the summed magnitudes:
// |optimized - reference| <= 1e-5 * (sum |x * w| + |bias|) + 1e-30.


private struct ConvCase: CustomStringConvertible {
    var height, width, inputChannels, outputChannels, filterHeight, filterWidth, stride, dilation: Int
    var same: Bool
    var clamp: ClampRange
    var hasBias: Bool
    /// The dilation along the rows when it differs from `dilation`.
    var rowDilation: Int? = nil
    var description: String {
        "\(height)x\(width)x\(inputChannels) -> \(outputChannels), \(filterHeight)x\(filterWidth) s\(stride) "
            + "d\(dilation)\(rowDilation.map { " rows d\($0)" } ?? "") \(same ? "SAME" : "VALID") "
            + "clamp \(clamp.min)...\(clamp.max) bias \(hasBias)"
    }

    func geometry() -> WindowGeometry {
        .image(height: height, width: width, filterHeight: filterHeight, filterWidth: filterWidth, stride: stride, dilation: dilation,
               rowDilation: rowDilation, same: same)
    }
}

/// The instruction sets to try: every one up to what this CPU supports.
private var instructionSets: [ck_isa] {
    [CK_ISA_PORTABLE, CK_ISA_AVX2_FMA, CK_ISA_AVX512].filter { $0.rawValue <= ck_detected_isa().rawValue }
}

private func withinTolerance(_ optimized: [Float], _ reference: [Float], magnitudes: [Float]) -> Int? {
    for i in reference.indices where !(abs(optimized[i] - reference[i]) <= 1e-5 * magnitudes[i] + 1e-30) {
        return i
    }
    return nil
}

private let clamps: [ClampRange] = [.unbounded, .relu, .relu6]

/// Runs a kernel built by `run(isa, threads)` on every instruction set and thread count and expects
/// every output within tolerance of the reference kernel's.
private func expectEveryPathWithinTolerance(_ c: ConvCase, threadCounts: [Int], reference: [Float], magnitudes: [Float],
                                            _ run: (ck_isa, Int) -> [Float]) {
    for isa in instructionSets {
        for threads in threadCounts {
            let optimized = run(isa, threads)
            let bad = withinTolerance(optimized, reference, magnitudes: magnitudes)
            let context = "\(c) on \(String(cString: ck_isa_name(isa))) x\(threads)"
            #expect(bad == nil, "\(context): output \(bad ?? -1) is \(bad.map { optimized[$0] } ?? 0), reference \(bad.map { reference[$0] } ?? 0)")
        }
    }
}

@Test func optimizedConv2DMatchesReferenceOnRandomShapes() throws {
    var random = SeededRandom(state: 42)
    var cases: [ConvCase] = [
        // The SSD shapes: 3x3 stride-2 first layer, 1x1 layers with channel counts of all residues mod 16.
        ConvCase(height: 33, width: 31, inputChannels: 3, outputChannels: 32, filterHeight: 3, filterWidth: 3,
                 stride: 2, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        ConvCase(height: 19, width: 19, inputChannels: 96, outputChannels: 24, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .unbounded, hasBias: true),
        ConvCase(height: 1, width: 1, inputChannels: 256, outputChannels: 546, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .unbounded, hasBias: true),
        // Rows not a multiple of the 8-row micro-kernel, 7 panels (two column tiles, a 1-panel tail), long K.
        ConvCase(height: 5, width: 5, inputChannels: 320, outputChannels: 100, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        // im2col per work unit across two column tiles and several row tiles, windows crossing the border.
        ConvCase(height: 9, width: 11, inputChannels: 5, outputChannels: 100, filterHeight: 3, filterWidth: 3,
                 stride: 1, dilation: 1, same: true, clamp: .unbounded, hasBias: true),
        // Both orders of work units: small weights (3 row tiles x 3 column tiles, taken band by band) and
        // over 1 MB of packed weights (3 row tiles x 4 column tiles, taken column by column).
        ConvCase(height: 7, width: 9, inputChannels: 24, outputChannels: 250, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        ConvCase(height: 5, width: 10, inputChannels: 1024, outputChannels: 300, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .unbounded, hasBias: true),
        // The narrow AVX-512 paths: 1 panel in 24-row blocks (143 rows: a 23-row tail), 4 panels as 2 + 2 in
        // 12-row blocks (81 rows: a 9-row tail), 10 panels as 3 + 3 + 2 + 2 (100 rows: a 4-row tail).
        ConvCase(height: 13, width: 11, inputChannels: 32, outputChannels: 16, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        ConvCase(height: 9, width: 9, inputChannels: 40, outputChannels: 64, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .unbounded, hasBias: true),
        ConvCase(height: 10, width: 10, inputChannels: 96, outputChannels: 160, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        // A last panel of 8 channels, which AVX-512 takes from the pair panel: 24 channels with an odd K
        // (63 rows: two 24-row blocks, then 8 + 4 + 2 + 1), 40 (two whole panels before it) with an
        // even K, 24 through im2col rows (K = 27), and over 1 MB of weights with the pair panel in the
        // last of three column tiles (16 whole panels + 8 channels).
        ConvCase(height: 7, width: 9, inputChannels: 45, outputChannels: 24, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        ConvCase(height: 5, width: 7, inputChannels: 96, outputChannels: 40, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .unbounded, hasBias: false),
        ConvCase(height: 9, width: 8, inputChannels: 3, outputChannels: 24, filterHeight: 3, filterWidth: 3,
                 stride: 2, dilation: 2, same: true, clamp: .relu, hasBias: true),
        ConvCase(height: 5, width: 6, inputChannels: 1024, outputChannels: 264, filterHeight: 1, filterWidth: 1,
                 stride: 1, dilation: 1, same: true, clamp: .unbounded, hasBias: true),
        // Windows read in place a block of pixels at a time where the block lies in one output row with
        // every window inside (AVX-512): 1 panel in 24-pixel blocks (output rows of 30), 2 panels in
        // 12-pixel blocks with the filter rows 2 input rows apart; 3 + 1 panels (rows of 38) keep the
        // 8-pixel blocks.
        ConvCase(height: 12, width: 60, inputChannels: 3, outputChannels: 16, filterHeight: 3, filterWidth: 3,
                 stride: 2, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        ConvCase(height: 11, width: 40, inputChannels: 4, outputChannels: 56, filterHeight: 3, filterWidth: 3,
                 stride: 1, dilation: 1, same: false, clamp: .unbounded, hasBias: true),
        ConvCase(height: 13, width: 30, inputChannels: 3, outputChannels: 32, filterHeight: 3, filterWidth: 3,
                 stride: 1, dilation: 1, same: true, clamp: .relu, hasBias: true, rowDilation: 2),
    ]
    for _ in 0..<40 {
        let kernel = random.int(1...3) * 2 - 1
        cases.append(ConvCase(height: random.int(1...17), width: random.int(1...17), inputChannels: random.int(1...40),
                              outputChannels: random.int(1...70), filterHeight: kernel,
                              filterWidth: random.int(0...3) == 0 ? 1 : kernel, stride: random.int(1...2),
                              dilation: random.int(0...4) == 0 ? 2 : 1, same: random.int(0...1) == 0,
                              clamp: clamps[random.int(0...2)], hasBias: random.int(0...3) != 0))
    }
    for c in cases {
        let g = c.geometry()
        if g.outputHeight < 1 || g.outputWidth < 1 { continue }
        let input = random.floats(c.height * c.width * c.inputChannels)
        let filter = random.floats(c.outputChannels * c.filterHeight * c.filterWidth * c.inputChannels)
        let bias = c.hasBias ? random.floats(c.outputChannels) : nil
        let count = g.outputHeight * g.outputWidth * c.outputChannels
        var reference = [Float](repeating: .nan, count: count)
        var magnitudes = [Float](repeating: .nan, count: count)
        let absoluteInput = input.map(abs), absoluteFilter = filter.map(abs), absoluteBias = bias?.map(abs)
        FloatKernels.conv2D(input: input, inputChannels: c.inputChannels, filter: filter, bias: bias,
                            output: &reference, outputChannels: c.outputChannels, geometry: g, clamp: c.clamp)
        FloatKernels.conv2D(input: absoluteInput, inputChannels: c.inputChannels, filter: absoluteFilter,
                            bias: absoluteBias, output: &magnitudes, outputChannels: c.outputChannels, geometry: g,
                            clamp: .unbounded)
        expectEveryPathWithinTolerance(c, threadCounts: [1, 3], reference: reference, magnitudes: magnitudes) { isa, threads in
            let kernel = OptimizedFloatKernels.Conv2D(
                filter: filter, bias: bias, inputChannels: c.inputChannels, outputChannels: c.outputChannels,
                geometry: g, clamp: c.clamp, threads: threads, singleThreadBelow: 0, instructionSet: isa)
            var optimized = [Float](repeating: .nan, count: count)
            kernel.run(input: input, output: &optimized)
            return optimized
        }
    }
}

@Test func optimizedDepthwiseConv2DMatchesReferenceOnRandomShapes() throws {
    var random = SeededRandom(state: 7)
    var cases: [ConvCase] = [
        // Many channels on a small map (mostly border pixels), 3x3 stride 1 and 2 as in the SSD heads.
        ConvCase(height: 5, width: 6, inputChannels: 200, outputChannels: 200, filterHeight: 3, filterWidth: 3,
                 stride: 1, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        ConvCase(height: 7, width: 5, inputChannels: 200, outputChannels: 200, filterHeight: 3, filterWidth: 3,
                 stride: 2, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        // A row too wide for the AVX-512 kernel's L1 copy of three padded rows, so read in pixel order
        // although the input is small (on AVX2, whose 8-channel rows fit, through the copy).
        ConvCase(height: 4, width: 140, inputChannels: 20, outputChannels: 20, filterHeight: 3, filterWidth: 3,
                 stride: 1, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        // Inputs of 1 MiB and more, which the AVX2 and AVX-512 kernels walk pixel by pixel rather than
        // through that copy also at stride 1 (a masked last block in the second).
        ConvCase(height: 64, width: 66, inputChannels: 64, outputChannels: 64, filterHeight: 3, filterWidth: 3,
                 stride: 1, dilation: 1, same: true, clamp: .relu6, hasBias: true),
        ConvCase(height: 90, width: 75, inputChannels: 41, outputChannels: 41, filterHeight: 3, filterWidth: 3,
                 stride: 1, dilation: 1, same: false, clamp: .unbounded, hasBias: true),
    ]
    for _ in 0..<40 {
        let kernel = random.int(1...3) * 2 - 1
        let channels = random.int(1...70)
        cases.append(ConvCase(height: random.int(1...19), width: random.int(1...19), inputChannels: channels,
                              outputChannels: channels, filterHeight: kernel, filterWidth: kernel,
                              stride: random.int(1...2), dilation: random.int(0...4) == 0 ? 2 : 1,
                              same: random.int(0...1) == 0, clamp: clamps[random.int(0...2)],
                              hasBias: random.int(0...3) != 0))
    }
    for c in cases {
        let g = c.geometry()
        if g.outputHeight < 1 || g.outputWidth < 1 { continue }
        let channels = c.inputChannels
        let input = random.floats(c.height * c.width * channels)
        let filter = random.floats(c.filterHeight * c.filterWidth * channels)
        let bias = c.hasBias ? random.floats(channels) : nil
        let count = g.outputHeight * g.outputWidth * channels
        var reference = [Float](repeating: .nan, count: count)
        var magnitudes = [Float](repeating: .nan, count: count)
        FloatKernels.depthwiseConv2D(input: input, inputChannels: channels, depthMultiplier: 1, filter: filter,
                                     bias: bias, output: &reference, geometry: g, clamp: c.clamp)
        FloatKernels.depthwiseConv2D(input: input.map(abs), inputChannels: channels, depthMultiplier: 1,
                                     filter: filter.map(abs), bias: bias?.map(abs), output: &magnitudes, geometry: g,
                                     clamp: .unbounded)
        expectEveryPathWithinTolerance(c, threadCounts: [1, 2], reference: reference, magnitudes: magnitudes) { isa, threads in
            let kernel = OptimizedFloatKernels.DepthwiseConv2D(
                filter: filter, bias: bias, channels: channels, geometry: g, clamp: c.clamp, threads: threads,
                singleThreadBelow: 0, instructionSet: isa)
            var optimized = [Float](repeating: .nan, count: count)
            kernel.run(input: input, output: &optimized)
            return optimized
        }
    }
}

@Test func depthwiseRowRangeWritesExactlyItsRowsAsTheWholeDoes() {
    // Threads split a depthwise by output rows, and a range that starts mid-image copies its first input
    // rows afresh (tiled order): it must write its rows bit for bit as the whole call does, and nothing
    // else. A 19x19 map takes the tiled order, a 40x40 one the tiled order on AVX2 and pixel order on
    // AVX-512, stride 2 the other paths; 41 channels end in a masked block.
    var random = SeededRandom(state: 11)
    for (side, stride) in [(19, 1), (40, 1), (19, 2)] {
        let channels = 41
        let c = ConvCase(height: side, width: side, inputChannels: channels, outputChannels: channels, filterHeight: 3,
                         filterWidth: 3, stride: stride, dilation: 1, same: true, clamp: .relu6, hasBias: true)
        let g = c.geometry()
        let input = random.floats(side * side * channels)
        let filter = random.floats(9 * channels), bias = random.floats(channels)
        var window = ck_window(geometry: g, channels: channels)
        let count = g.outputHeight * g.outputWidth * channels
        let rows = 2..<(g.outputHeight - 3)
        for isa in instructionSets {
            // A sentinel rather than NaN, so that adding to an output outside the range shows too.
            var whole = [Float](repeating: .nan, count: count), part = [Float](repeating: 12345, count: count)
            ck_depthwise_f32(input, &window, filter, bias, &whole, 0, 6, 0, Int32(g.outputHeight), isa)
            ck_depthwise_f32(input, &window, filter, bias, &part, 0, 6, Int32(rows.lowerBound), Int32(rows.upperBound),
                             isa)
            let wrong = (0..<count).first { i in
                rows.contains(i / channels / g.outputWidth)
                    ? part[i].bitPattern != whole[i].bitPattern : part[i] != 12345
            }
            #expect(wrong == nil, "\(c) on \(String(cString: ck_isa_name(isa))): output \(wrong ?? -1)")
        }
    }
}

@Test func instructionSetIsDetected() {
    // Not a speed claim: the name must be one of the three paths, and forcing lower never raises it.
    #expect(["portable", "avx2-fma", "avx512"].contains(OptimizedFloatKernels.instructionSetName))
}
