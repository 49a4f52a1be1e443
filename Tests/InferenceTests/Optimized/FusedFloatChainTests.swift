import CKernels
import Foundation
import Testing
@testable import Inference

// Fused float chains ([expand] → depthwise → [1x1 project], band by band; the expand 1x1 or, as the
// person model's first layer, a 3x3 SAME convolution) against
// - the same optimized kernels run one operator at a time: every stage runs the same C kernel on the
//   same rows in the same order, so the outputs must be equal BIT FOR BIT, on every instruction set and
//   thread count and for every band height (1 row, a few, the whole map);
// - the reference kernels (the oracle) run one operator at a time, within the float tolerance of the
//   optimized kernel tests compounded over the stages: each stage adds at most 1e-5 of its summed
//   magnitudes and passes its input's error on scaled by at most sum |w|, so after three stages
//   |fused - reference| <= 3e-5 * M, M = the chain computed on |x|, |w|, |bias| without clamping.

private struct ChainCase: CustomStringConvertible {
    var height, width, inputChannels, channels, outputChannels, kernel, stride, dilation: Int
    var same, hasExpand, hasProject: Bool
    var clamp: ClampRange
    /// The expand's filter size and stride (SAME padding) when it is not 1x1.
    var expandKernel = 1, expandStride = 1
    var description: String {
        "\(height)x\(width)x\(inputChannels) "
            + (hasExpand ? "-> \(expandKernel)x\(expandKernel) s\(expandStride) \(channels) " : "")
            + "dw \(kernel)x\(kernel) s\(stride) "
            + "d\(dilation) \(same ? "SAME" : "VALID")\(hasProject ? " -> \(outputChannels)" : "") "
            + "clamp \(clamp.min)...\(clamp.max)"
    }

    var expandGeometry: WindowGeometry {
        expandKernel == 1 && expandStride == 1 ? ChainCase.pointwise(height: height, width: width)
            : .image(height: height, width: width, filterHeight: expandKernel, filterWidth: expandKernel,
                     stride: expandStride, dilation: 1, same: true)
    }

    var depthwiseGeometry: WindowGeometry {
        let e = expandGeometry
        return .image(height: hasExpand ? e.outputHeight : height, width: hasExpand ? e.outputWidth : width,
                      filterHeight: kernel, filterWidth: kernel, stride: stride, dilation: dilation, same: same)
    }

    static func pointwise(height: Int, width: Int) -> WindowGeometry {
        WindowGeometry(batches: 1, inputHeight: height, inputWidth: width, outputHeight: height, outputWidth: width,
                       filterHeight: 1, filterWidth: 1, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0)
    }
}

/// A chain's weights; stages absent from the case are nil.
private struct ChainWeights {
    var expandFilter: [Float]?, expandBias: [Float]?
    var depthwiseFilter: [Float], depthwiseBias: [Float]?
    var projectFilter: [Float]?, projectBias: [Float]?

    init(_ c: ChainCase, random: inout SeededRandom) {
        if c.hasExpand {
            expandFilter = random.floats(c.channels * c.expandKernel * c.expandKernel * c.inputChannels)
            expandBias = random.floats(c.channels)
        }
        depthwiseFilter = random.floats(c.kernel * c.kernel * c.channels)
        depthwiseBias = random.int(0...3) == 0 ? nil : random.floats(c.channels)
        if c.hasProject {
            projectFilter = random.floats(c.outputChannels * c.channels)
            projectBias = random.int(0...3) == 0 ? nil : random.floats(c.outputChannels)
        }
    }

    var absolute: ChainWeights {
        var a = self
        a.expandFilter = expandFilter?.map(abs); a.expandBias = expandBias?.map(abs)
        a.depthwiseFilter = depthwiseFilter.map(abs); a.depthwiseBias = depthwiseBias?.map(abs)
        a.projectFilter = projectFilter?.map(abs); a.projectBias = projectBias?.map(abs)
        return a
    }
}

/// The chain through the reference kernels, one operator at a time.
private func referenceChain(_ c: ChainCase, _ w: ChainWeights, input: [Float], clamp: ClampRange) -> [Float] {
    let g = c.depthwiseGeometry
    var x = input
    if let filter = w.expandFilter {
        var expanded = [Float](repeating: .nan, count: g.inputHeight * g.inputWidth * c.channels)
        FloatKernels.conv2D(input: x, inputChannels: c.inputChannels, filter: filter, bias: w.expandBias,
                            output: &expanded, outputChannels: c.channels, geometry: c.expandGeometry, clamp: clamp)
        x = expanded
    }
    var depthwise = [Float](repeating: .nan, count: g.outputHeight * g.outputWidth * c.channels)
    FloatKernels.depthwiseConv2D(input: x, inputChannels: c.channels, depthMultiplier: 1, filter: w.depthwiseFilter,
                                 bias: w.depthwiseBias, output: &depthwise, geometry: g, clamp: clamp)
    guard let filter = w.projectFilter else { return depthwise }
    var projected = [Float](repeating: .nan, count: g.outputHeight * g.outputWidth * c.outputChannels)
    FloatKernels.conv2D(input: depthwise, inputChannels: c.channels, filter: filter, bias: w.projectBias,
                        output: &projected, outputChannels: c.outputChannels,
                        geometry: ChainCase.pointwise(height: g.outputHeight, width: g.outputWidth), clamp: clamp)
    return projected
}

/// The optimized stages of a chain for one instruction set and thread count.
private struct OptimizedStages {
    let expand: OptimizedFloatKernels.Conv2D?
    let depthwise: OptimizedFloatKernels.DepthwiseConv2D
    let project: OptimizedFloatKernels.Conv2D?

    /// `projectClamp`: the project's own, when not the case's (a project before a residual ADD has none).
    init(_ c: ChainCase, _ w: ChainWeights, isa: ck_isa, threads: Int, projectClamp: ClampRange? = nil) {
        let g = c.depthwiseGeometry
        expand = w.expandFilter.map {
            OptimizedFloatKernels.Conv2D(filter: $0, bias: w.expandBias, inputChannels: c.inputChannels,
                                         outputChannels: c.channels, geometry: c.expandGeometry,
                                         clamp: c.clamp, threads: threads, singleThreadBelow: 0, instructionSet: isa)
        }
        depthwise = OptimizedFloatKernels.DepthwiseConv2D(
            filter: w.depthwiseFilter, bias: w.depthwiseBias, channels: c.channels, geometry: g, clamp: c.clamp,
            threads: threads, singleThreadBelow: 0, instructionSet: isa)
        project = w.projectFilter.map {
            OptimizedFloatKernels.Conv2D(filter: $0, bias: w.projectBias, inputChannels: c.channels,
                                         outputChannels: c.outputChannels,
                                         geometry: ChainCase.pointwise(height: g.outputHeight, width: g.outputWidth),
                                         clamp: projectClamp ?? c.clamp, threads: threads, singleThreadBelow: 0,
                                         instructionSet: isa)
        }
    }

    /// Operator by operator, each writing its whole output.
    func runUnfused(_ c: ChainCase, input: [Float]) -> [Float] {
        let g = c.depthwiseGeometry
        var x = input
        if let expand {
            var expanded = [Float](repeating: .nan, count: g.inputHeight * g.inputWidth * c.channels)
            expand.run(input: x, output: &expanded)
            x = expanded
        }
        var y = [Float](repeating: .nan, count: g.outputHeight * g.outputWidth * c.channels)
        depthwise.run(input: x, output: &y)
        guard let project else { return y }
        var projected = [Float](repeating: .nan, count: g.outputHeight * g.outputWidth * c.outputChannels)
        project.run(input: y, output: &projected)
        return projected
    }
}

private func outputCount(_ c: ChainCase) -> Int {
    let g = c.depthwiseGeometry
    return g.outputHeight * g.outputWidth * (c.hasProject ? c.outputChannels : c.channels)
}

private let instructionSets: [ck_isa] =
    [CK_ISA_PORTABLE, CK_ISA_AVX2_FMA, CK_ISA_AVX512].filter { $0.rawValue <= ck_detected_isa().rawValue }

private func randomCase(_ random: inout SeededRandom) -> ChainCase {
    let hasExpand = random.int(0...3) != 0
    return ChainCase(height: random.int(1...41), width: random.int(1...13), inputChannels: random.int(1...24),
                     channels: random.int(1...40), outputChannels: random.int(1...36), kernel: random.int(0...4) == 0 ? 5 : 3,
                     stride: random.int(1...2), dilation: random.int(0...5) == 0 ? 2 : 1, same: random.int(0...2) != 0,
                     hasExpand: hasExpand, hasProject: !hasExpand || random.int(0...2) != 0,
                     clamp: [ClampRange.unbounded, .relu6, .relu][random.int(0...2)])
}

/// The person model's 1x1 -> dw s2 -> 1x1 block, scaled down (channel counts not multiples of 16, odd sizes).
private let personExpandDepthwiseStride2 = ChainCase(
    height: 38, width: 21, inputChannels: 16, channels: 96, outputChannels: 24, kernel: 3, stride: 2, dilation: 1,
    same: true, hasExpand: true, hasProject: true, clamp: .relu6)

/// The person model's first layer (3x3 stride 2, 3 channels -> 32) and first block, scaled down.
private let personFirstLayerChain = ChainCase(
    height: 41, width: 37, inputChannels: 3, channels: 32, outputChannels: 16, kernel: 3, stride: 1, dilation: 1,
    same: true, hasExpand: true, hasProject: true, clamp: .relu6, expandKernel: 3, expandStride: 2)

@Test func fusedFloatChainsEqualUnfusedBitForBitAndMatchTheReference() throws {
    var random = SeededRandom(state: 2026)
    var cases: [ChainCase] = [
        // The person model's first blocks, scaled down: dw 3x3 s1 -> 1x1, and 1x1 -> dw s2 -> 1x1 with
        // channel counts that are not multiples of 16 and odd sizes.
        ChainCase(height: 37, width: 19, inputChannels: 8, channels: 32, outputChannels: 16, kernel: 3, stride: 1,
                  dilation: 1, same: true, hasExpand: false, hasProject: true, clamp: .relu6),
        personExpandDepthwiseStride2,
        ChainCase(height: 31, width: 9, inputChannels: 21, channels: 45, outputChannels: 19, kernel: 3, stride: 2,
                  dilation: 1, same: false, hasExpand: true, hasProject: true, clamp: .unbounded),
        // Expand without project (the head's last block shape), VALID stride 1.
        ChainCase(height: 23, width: 7, inputChannels: 5, channels: 18, outputChannels: 1, kernel: 3, stride: 1,
                  dilation: 1, same: false, hasExpand: true, hasProject: false, clamp: .relu6),
        // A 3x3 expand: the person model's first layer (stride 2, 3 channels -> 32) before its first block,
        // output rows of 19 (pixels both in and out of one-row blocks), and a stride-1 one of 5 channels.
        personFirstLayerChain,
        ChainCase(height: 17, width: 23, inputChannels: 5, channels: 20, outputChannels: 7, kernel: 3, stride: 2,
                  dilation: 1, same: false, hasExpand: true, hasProject: true, clamp: .unbounded, expandKernel: 3,
                  expandStride: 1),
    ]
    for _ in 0..<36 { cases.append(randomCase(&random)) }
    var checked = 0
    for c in cases {
        let g = c.depthwiseGeometry
        if g.outputHeight < 1 || g.outputWidth < 1 { continue }
        let weights = ChainWeights(c, random: &random)
        let input = random.floats(c.height * c.width * (c.hasExpand ? c.inputChannels : c.channels))
        let reference = referenceChain(c, weights, input: input, clamp: c.clamp)
        let magnitudes = referenceChain(c, weights.absolute, input: input.map(abs), clamp: .unbounded)
        // 1 row per band (the rows shared with the last band move every band), 3 rows, the whole map.
        let bandSizes = [1, g.outputWidth * 3, 1 << 30]
        for isa in instructionSets {
            for threads in [1, 2, 3] {
                let stages = OptimizedStages(c, weights, isa: isa, threads: threads)
                let unfused = stages.runUnfused(c, input: input)
                for bandPixels in bandSizes {
                    let context = "\(c) on \(String(cString: ck_isa_name(isa))) x\(threads), band \(bandPixels) pixels"
                    let fused = try #require(OptimizedFloatKernels.FusedChain(
                        expand: stages.expand, depthwise: stages.depthwise, project: stages.project, threads: threads,
                        fusedBytesAtLeast: 0, bandPixels: bandPixels, singleThreadBelow: 0), "\(context): not fused")
                    var output = [Float](repeating: .nan, count: outputCount(c))
                    fused.run(input: input, output: &output)
                    let differing = output.indices.first { output[$0].bitPattern != unfused[$0].bitPattern }
                    #expect(differing == nil, "\(context): output \(differing ?? -1) is \(differing.map { output[$0] } ?? 0), unfused \(differing.map { unfused[$0] } ?? 0)")
                    let bad = reference.indices.first {
                        !(abs(output[$0] - reference[$0]) <= 3e-5 * magnitudes[$0] + 1e-30)
                    }
                    #expect(bad == nil, "\(context): output \(bad ?? -1) is \(bad.map { output[$0] } ?? 0), reference \(bad.map { reference[$0] } ?? 0)")
                }
                checked += 1
            }
        }
    }
    #expect(checked >= 30 * instructionSets.count * 3)
}

/// A chain ending with a residual ADD (the project without activation, the ADD's clamp in the project
/// GEMM's epilogue) against the same chain fused without it followed by the optimized ADD: bit for bit,
/// for every band height, instruction set and thread count. A project with an activation refuses it.
@Test func fusedFloatChainWithResidualAddEqualsChainThenAdd() throws {
    var random = SeededRandom(state: 909)
    let cases = [
        ChainCase(height: 19, width: 11, inputChannels: 24, channels: 144, outputChannels: 24, kernel: 3, stride: 1,
                  dilation: 1, same: true, hasExpand: true, hasProject: true, clamp: .relu6),
        ChainCase(height: 13, width: 7, inputChannels: 10, channels: 30, outputChannels: 37, kernel: 3, stride: 1,
                  dilation: 1, same: true, hasExpand: false, hasProject: true, clamp: .relu),
    ]
    for c in cases {
        let g = c.depthwiseGeometry
        let weights = ChainWeights(c, random: &random)
        let input = random.floats(c.height * c.width * (c.hasExpand ? c.inputChannels : c.channels))
        let residual = random.floats(outputCount(c)).map { $0 * 8 }
        for isa in instructionSets {
            for threads in [1, 2, 3] {
                let stages = OptimizedStages(c, weights, isa: isa, threads: threads, projectClamp: .unbounded)
                let chainAlone = stages.runUnfused(c, input: input)
                var expected = [Float](repeating: .nan, count: outputCount(c))
                OptimizedFloatKernels.ElementwiseBinary(.add, clamp: c.clamp, threads: threads)
                    .run(chainAlone, residual, output: &expected, count: outputCount(c))
                for bandPixels in [1, g.outputWidth * 3, 1 << 30] {
                    let context = "\(c) + residual on \(String(cString: ck_isa_name(isa))) x\(threads), band \(bandPixels)"
                    let fused = try #require(OptimizedFloatKernels.FusedChain(
                        expand: stages.expand, depthwise: stages.depthwise, project: stages.project,
                        residualClamp: c.clamp, threads: threads, fusedBytesAtLeast: 0, bandPixels: bandPixels,
                        singleThreadBelow: 0), "\(context): not fused")
                    var output = [Float](repeating: .nan, count: outputCount(c))
                    fused.run(input: input, output: &output, residual: residual)
                    let differing = output.indices.first { output[$0].bitPattern != expected[$0].bitPattern }
                    #expect(differing == nil, "\(context): output \(differing ?? -1) is \(differing.map { output[$0] } ?? 0), expected \(differing.map { expected[$0] } ?? 0)")
                }
            }
        }
        let clamped = OptimizedStages(c, weights, isa: ck_active_isa(), threads: 1)
        #expect(OptimizedFloatKernels.FusedChain(expand: clamped.expand, depthwise: clamped.depthwise,
                                                 project: clamped.project, residualClamp: c.clamp, threads: 1,
                                                 fusedBytesAtLeast: 0) == nil)
    }
}

/// A chain with an expand at 2 threads runs `rangesPerThread` ranges per thread, each thread carrying the
/// expanded rows one range shares with its next. The pool's stealing decides which thread runs which range
/// and in what order, so the orders it can produce are replayed on one thread: own ranges in order,
/// ranges taken from the other's end (downwards, so the held rows are behind the next range's), a range
/// the other thread started before. Every order must give the unfused outputs bit for bit.
@Test func fusedFloatChainRangesInAnyStealingOrderEqualUnfused() throws {
    var random = SeededRandom(state: 4242)
    let cases = [
        personExpandDepthwiseStride2,
        ChainCase(height: 29, width: 9, inputChannels: 12, channels: 40, outputChannels: 17, kernel: 3, stride: 1,
                  dilation: 1, same: true, hasExpand: true, hasProject: true, clamp: .relu6),
        personFirstLayerChain,
    ]
    #expect(OptimizedFloatKernels.FusedChain.rangesPerThread == 4)
    // (range, slot) for 8 ranges: slot 0 owns 0-3, slot 1 owns 4-7.
    let orders: [[(part: Int, slot: Int)]] = [
        [(0, 0), (4, 1), (1, 0), (5, 1), (2, 0), (6, 1), (3, 0), (7, 1)],  // no stealing
        [(0, 0), (4, 1), (1, 0), (2, 0), (3, 0), (7, 0), (6, 0), (5, 1)],  // slot 0 takes 7 then 6 downwards
        [(0, 0), (4, 1), (5, 1), (6, 1), (7, 1), (3, 1), (2, 1), (1, 0)],  // slot 1 takes 3 and 2
        [(4, 1), (5, 1), (6, 1), (7, 1), (0, 0), (3, 1), (1, 0), (2, 0)],  // slot 0 starts late
    ]
    for c in cases {
        let weights = ChainWeights(c, random: &random)
        let input = random.floats(c.height * c.width * c.inputChannels)
        for isa in instructionSets {
            let stages = OptimizedStages(c, weights, isa: isa, threads: 2)
            let unfused = stages.runUnfused(c, input: input)
            for bandPixels in [1, c.depthwiseGeometry.outputWidth * 3] {
                let fused = try #require(OptimizedFloatKernels.FusedChain(
                    expand: stages.expand, depthwise: stages.depthwise, project: stages.project, threads: 2,
                    fusedBytesAtLeast: 0, bandPixels: bandPixels, singleThreadBelow: 0))
                try #require(fused.parts == 8, "\(c): \(fused.parts) ranges")
                for order in orders {
                    fused.orderForTesting = order
                    var output = [Float](repeating: .nan, count: outputCount(c))
                    fused.run(input: input, output: &output)
                    let differing = output.indices.first { output[$0].bitPattern != unfused[$0].bitPattern }
                    #expect(differing == nil, "\(c) on \(String(cString: ck_isa_name(isa))), band \(bandPixels), order \(order): output \(differing ?? -1) differs")
                }
            }
        }
    }
}

@Test func fusedFloatChainRefusesStagesThatDoNotFit() {
    var random = SeededRandom(state: 5)
    let c = ChainCase(height: 9, width: 7, inputChannels: 4, channels: 8, outputChannels: 6, kernel: 3, stride: 1,
                      dilation: 1, same: true, hasExpand: true, hasProject: true, clamp: .relu6)
    let w = ChainWeights(c, random: &random)
    let stages = OptimizedStages(c, w, isa: ck_active_isa(), threads: 1)
    // No stage around the depthwise: nothing to fuse.
    #expect(OptimizedFloatKernels.FusedChain(expand: nil, depthwise: stages.depthwise, project: nil, threads: 1,
                                             fusedBytesAtLeast: 0) == nil)
    // Intermediates of (9x7 + 9x7) x 8 floats = 4032 bytes: fused from 4032 bytes on, not above.
    #expect(OptimizedFloatKernels.FusedChain(expand: stages.expand, depthwise: stages.depthwise,
                                             project: stages.project, threads: 1, fusedBytesAtLeast: 4032) != nil)
    #expect(OptimizedFloatKernels.FusedChain(expand: stages.expand, depthwise: stages.depthwise,
                                             project: stages.project, threads: 1, fusedBytesAtLeast: 4033) == nil)
    // A project whose input is not the depthwise output's shape.
    let wrong = OptimizedFloatKernels.Conv2D(filter: w.projectFilter!, bias: nil, inputChannels: c.channels,
                                             outputChannels: c.outputChannels,
                                             geometry: ChainCase.pointwise(height: 3, width: 7), clamp: .unbounded,
                                             threads: 1)
    #expect(OptimizedFloatKernels.FusedChain(expand: stages.expand, depthwise: stages.depthwise, project: wrong,
                                             threads: 1, fusedBytesAtLeast: 0) == nil)
    // An expand whose output is not the depthwise input's shape (3x3 stride 2: 5x4 for a 9x7 depthwise).
    var strided = c
    (strided.expandKernel, strided.expandStride) = (3, 2)
    let shrinking = OptimizedFloatKernels.Conv2D(filter: random.floats(c.channels * 9 * c.inputChannels), bias: nil,
                                                 inputChannels: c.inputChannels, outputChannels: c.channels,
                                                 geometry: strided.expandGeometry, clamp: .unbounded, threads: 1)
    #expect(OptimizedFloatKernels.FusedChain(expand: shrinking, depthwise: stages.depthwise, project: stages.project,
                                             threads: 1, fusedBytesAtLeast: 0) == nil)
    // Below the size, a depthwise -> project pair still fuses when its work is split across threads; a
    // whole chain does not, nor a pair on one thread (by count or because its work is too small to split).
    #expect(OptimizedFloatKernels.FusedChain(expand: nil, depthwise: stages.depthwise, project: stages.project,
                                             threads: 2, fusedBytesAtLeast: 1 << 30, singleThreadBelow: 0) != nil)
    #expect(OptimizedFloatKernels.FusedChain(expand: stages.expand, depthwise: stages.depthwise,
                                             project: stages.project, threads: 2, fusedBytesAtLeast: 1 << 30,
                                             singleThreadBelow: 0) == nil)
    #expect(OptimizedFloatKernels.FusedChain(expand: nil, depthwise: stages.depthwise, project: stages.project,
                                             threads: 1, fusedBytesAtLeast: 1 << 30, singleThreadBelow: 0) == nil)
    #expect(OptimizedFloatKernels.FusedChain(expand: nil, depthwise: stages.depthwise, project: stages.project,
                                             threads: 2, fusedBytesAtLeast: 1 << 30) == nil)
}

/// The person model's chains with intermediates of 2 MiB and more, fused, give exactly the bytes of the
/// same kernels run operator by operator. Worked out by hand from `ssd-energy inspect`: operators 1-2
/// (150x150x32 depthwise output, 2.9 MB), 3-5 (150x150x96 + 75x75x96, 10.8 MB), 6-8 (75x75x144 twice,
/// 6.5 MB), 10-12 (75x75x144 + 38x38x144, 4.1 MB), 13-15 and 17-19 (38x38x192 twice, 2.2 MB); the
/// next, 21-23 (38x38x192 + 19x19x192 at stride 2), has 1.4 MB. Chains 6-8, 13-15 and 17-19 take the
/// residual ADD after them (9, 16, 20); the unfused 19x19 and 10x10 blocks' projects take theirs, and at
/// 2 threads their depthwise -> project pairs fuse (`FusedChain.splitPairsFuse`).
@Test("Fused person float models equal unfused", arguments: ["fp32", "fp16"])
func fusedPersonModelEqualsUnfused(precision: String) throws {
    let model = try SharedModels.load(SharedModels.person(precision))
    let pixels = [UInt8](try Data(contentsOf: Fixtures.url("e2e_000000000139.u8")))
    func outputs(fused: Bool, threads: Int) throws -> [[UInt8]] {
        let interpreter = try Interpreter(model: model, options: .init(threads: threads, fusesConvolutionChains: fused))
        let names = interpreter.kernelOperatorNames
        let fusedKernels = names.indices.filter { names[$0].contains("+") }
        let block = "CONV_2D+DEPTHWISE_CONV_2D+CONV_2D"
        // The chains above (the first with the 3x3 first layer as its expand), then the residual ADDs of the 19x19 and 10x10 blocks with their projects, or at
        // 2 threads, the depthwise → project pairs (with the ADD after them) whose work is split: all from
        // the 19x19 blocks on, down to the 10x10 -> 5x5 one (75-76; the smaller ones run on one thread).
        var expected: [[Int]] = [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9], [10, 11, 12], [13, 14, 15, 16], [17, 18, 19, 20]]
        let adds: Set = [27, 31, 35, 42, 46, 59, 63]
        if threads == 1 {
            expected += adds.sorted().map { [$0 - 1, $0] }
        } else {
            for d in [22, 25, 29, 33, 37, 40, 44, 48, 50, 54, 57, 61, 65, 68, 70, 75] {
                expected.append(adds.contains(d + 2) ? [d, d + 1, d + 2] : [d, d + 1])
            }
        }
        func name(_ operators: [Int]) -> String {
            switch operators.count {
            case 2 where threads > 1: return "DEPTHWISE_CONV_2D+CONV_2D"
            case 2: return "CONV_2D+ADD"
            case 3 where operators[0] >= 21: return "DEPTHWISE_CONV_2D+CONV_2D+ADD"
            case 3: return block
            default: return block + "+ADD"
            }
        }
        #expect(fusedKernels.map { names[$0] } == (fused ? expected.map(name) : []), "\(threads) threads")
        // Operator indices counted from the first convolution's: the fp16 model lists its DEQUANTIZEs first.
        let first = interpreter.kernelOperatorIndices[0][0]
        #expect(fusedKernels.map { interpreter.kernelOperatorIndices[$0].map { $0 - first } } == (fused ? expected : []),
                "\(threads) threads")
        try interpreter.setInput(0, floats: pixels.map { Float($0) / 127.5 - 1 })
        try interpreter.invoke()
        return interpreter.outputs.indices.map { interpreter.output($0).bytes }
    }
    for threads in [1, 2] {
        let unfused = try outputs(fused: false, threads: threads)
        #expect(unfused.allSatisfy { !$0.isEmpty })
        #expect(try outputs(fused: true, threads: threads) == unfused, "\(precision) at \(threads) threads")
    }
}

@Test func fusedChainBorrowsOneScratchBlockAndReusesIt() {
    var random = SeededRandom(state: 11)
    let c = ChainCase(height: 30, width: 11, inputChannels: 6, channels: 20, outputChannels: 10, kernel: 3, stride: 2,
                      dilation: 1, same: true, hasExpand: true, hasProject: true, clamp: .relu6)
    let w = ChainWeights(c, random: &random)
    let stages = OptimizedStages(c, w, isa: ck_active_isa(), threads: 2)
    let pool = FloatChainScratch()
    // A chain with smaller bands, created later: its runs borrow the same block.
    let smaller = OptimizedFloatKernels.FusedChain(expand: stages.expand, depthwise: stages.depthwise,
                                                   project: stages.project, threads: 2, fusedBytesAtLeast: 0,
                                                   bandPixels: 1, singleThreadBelow: 0, scratch: pool)!
    let larger = OptimizedFloatKernels.FusedChain(expand: stages.expand, depthwise: stages.depthwise,
                                                  project: stages.project, threads: 2, fusedBytesAtLeast: 0,
                                                  bandPixels: 1 << 20, singleThreadBelow: 0, scratch: pool)!
    let largest = larger.scratchFloats
    #expect(largest == 2 * larger.partFloats)
    #expect(smaller.scratchFloats < largest)
    let input = random.floats(c.height * c.width * c.inputChannels)
    var output = [Float](repeating: .nan, count: outputCount(c))
    #expect(pool.idleFloatCount == 0)
    for _ in 0..<3 {
        for chain in [smaller, larger] {
            chain.run(input: input, output: &output)
            // One block, of the largest size reserved, from the first run on.
            #expect(pool.idleFloatCount == largest)
        }
    }
}

/// The arena as the interpreter lays it out once it knows which chains fuse: a fused chain is one step
/// in which its input and output both live (it writes output rows while other input rows are still to be
/// read), and the tensors only its own operators touch get no bytes. Checked on every model, fused at 1
/// and 2 threads: no two tensors alive in the same kernel step share bytes, the left-out tensors are
/// exactly the fused chains' inner outputs, and the arena is no larger than with every operator alone.
@Test(arguments: SharedModels.all)
func fusedChainsLayOutTheArenaByKernelSteps(relativePath: String) throws {
    let model = try SharedModels.load(relativePath)
    let graph = model.mainSubgraph
    let unfused = try Interpreter(model: model, options: .init(fusesConvolutionChains: false))
    #expect(unfused.plan.activationsOutsideArena.isEmpty)
    for threads in [1, 2] {
        let interpreter = try Interpreter(model: model, options: .init(threads: threads))
        let plan = interpreter.plan
        var first: [Int: Int] = [:], last: [Int: Int] = [:]
        var innerOutputs = Set<Int>()
        for (step, operators) in interpreter.kernelOperatorIndices.enumerated() {
            for (n, opIndex) in operators.enumerated() {
                let op = graph.operators[opIndex]
                if n < operators.count - 1 { innerOutputs.formUnion(op.outputs) }
                for i in op.inputs + op.outputs where i >= 0 && !innerOutputs.contains(i) {
                    first[i] = min(first[i] ?? step, step)
                    last[i] = max(last[i] ?? step, step)
                }
            }
        }
        for i in graph.inputs + graph.outputs {
            first[i] = 0
            last[i] = interpreter.kernelOperatorIndices.count - 1
        }
        var placed: [(bytes: Range<Int>, steps: ClosedRange<Int>)] = []
        for (i, tensor) in plan.tensors.enumerated() {
            guard case let .arena(offset) = tensor.storage else { continue }
            let steps = try #require(first[i].map { $0...last[i]! }, "tensor \(i) has arena bytes but no kernel uses it")
            #expect(offset + tensor.byteCount <= plan.arenaBytes)
            placed.append((offset..<(offset + tensor.byteCount), steps))
        }
        var collisions = 0
        for a in placed.indices {
            for b in placed.indices where b > a && placed[a].steps.overlaps(placed[b].steps)
                && placed[a].bytes.overlaps(placed[b].bytes) {
                collisions += 1
            }
        }
        #expect(collisions == 0, "\(relativePath) x\(threads)")
        #expect(Set(interpreter.tensorsKeptInFusedKernels) == innerOutputs, "\(relativePath) x\(threads)")
        #expect(interpreter.peakArenaBytes <= unfused.peakArenaBytes)
        if relativePath.contains("person") {
            // The largest person tensors (the 150x150x96 expansion, 8.64 MB in float) are chain-inner.
            #expect(interpreter.peakArenaBytes < unfused.peakArenaBytes)
        }
    }
}
