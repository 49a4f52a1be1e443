import CKernels
import Testing
@testable import Inference

// A 1x1 convolution and the residual ADD after it, fused into one GEMM (`ck_gemm_f32_residual`), against
// - the same optimized convolution followed by the optimized ADD: the fused epilogue does the same two
//   float additions (bias was already in the sum, then the residual) and the ADD's clamp, so the outputs
//   must be equal BIT FOR BIT, on every instruction set and thread count;
// - the reference kernels (the oracle), within the optimized convolution's tolerance:
//   |fused - reference| <= 1e-5 * (sum |x * w| + |bias|) + 1e-30 (the addition of the residual is exact
//   in both up to one rounding of the same two numbers, which the bit-for-bit check above already pins).

private struct ResidualCase: CustomStringConvertible {
    var height, width, inputChannels, outputChannels: Int
    var clamp: ClampRange
    var description: String { "\(height)x\(width)x\(inputChannels) -> \(outputChannels) + residual, clamp \(clamp.min)...\(clamp.max)" }

    var geometry: WindowGeometry {
        WindowGeometry(batches: 1, inputHeight: height, inputWidth: width, outputHeight: height, outputWidth: width,
                       filterHeight: 1, filterWidth: 1, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0)
    }
    var outputCount: Int { height * width * outputChannels }
}

private let instructionSets: [ck_isa] =
    [CK_ISA_PORTABLE, CK_ISA_AVX2_FMA, CK_ISA_AVX512].filter { $0.rawValue <= ck_detected_isa().rawValue }

@Test func residualGemmEqualsConvolutionThenAddBitForBit() throws {
    var random = SeededRandom(state: 77)
    var cases: [ResidualCase] = [
        // The person model's project + ADD shapes, scaled down: 24, 32, 64, 96 and 160 output channels.
        ResidualCase(height: 11, width: 13, inputChannels: 144, outputChannels: 24, clamp: .unbounded),
        ResidualCase(height: 9, width: 9, inputChannels: 192, outputChannels: 32, clamp: .unbounded),
        ResidualCase(height: 7, width: 7, inputChannels: 384, outputChannels: 64, clamp: .unbounded),
        ResidualCase(height: 7, width: 5, inputChannels: 576, outputChannels: 96, clamp: .relu6),
        ResidualCase(height: 5, width: 5, inputChannels: 960, outputChannels: 160, clamp: .relu),
        // Over 1 MB of packed weights (units taken column by column), 7 panels (a 1-panel tail).
        ResidualCase(height: 5, width: 10, inputChannels: 1024, outputChannels: 300, clamp: .unbounded),
        ResidualCase(height: 3, width: 3, inputChannels: 40, outputChannels: 100, clamp: .relu6),
    ]
    for _ in 0..<24 {
        cases.append(ResidualCase(height: random.int(1...17), width: random.int(1...13), inputChannels: random.int(1...70),
                                  outputChannels: random.int(1...70),
                                  clamp: [ClampRange.unbounded, .relu, .relu6][random.int(0...2)]))
    }
    var checked = 0
    for c in cases {
        let pixels = c.height * c.width
        let filter = random.floats(c.outputChannels * c.inputChannels)
        let bias = random.int(0...3) == 0 ? nil : random.floats(c.outputChannels)
        let input = random.floats(pixels * c.inputChannels)
        // Scaled so that relu6 cuts on both sides.
        let residual = random.floats(c.outputCount).map { $0 * 8 }
        let shapes = FloatKernels.BroadcastShapes(left: [c.outputCount], right: [c.outputCount])!

        var convolved = [Float](repeating: .nan, count: c.outputCount)
        FloatKernels.conv2D(input: input, inputChannels: c.inputChannels, filter: filter, bias: bias, output: &convolved,
                            outputChannels: c.outputChannels, geometry: c.geometry, clamp: .unbounded)
        var reference = [Float](repeating: .nan, count: c.outputCount)
        FloatKernels.add(convolved, residual, output: &reference, shapes: shapes, clamp: c.clamp)
        var magnitudes = [Float](repeating: 0, count: c.outputCount)
        FloatKernels.conv2D(input: input.map(abs), inputChannels: c.inputChannels, filter: filter.map(abs),
                            bias: bias?.map(abs), output: &magnitudes, outputChannels: c.outputChannels,
                            geometry: c.geometry, clamp: .unbounded)

        for isa in instructionSets {
            for threads in [1, 2, 3] {
                let context = "\(c) on \(String(cString: ck_isa_name(isa))) x\(threads)"
                let conv = OptimizedFloatKernels.Conv2D(
                    filter: filter, bias: bias, inputChannels: c.inputChannels, outputChannels: c.outputChannels,
                    geometry: c.geometry, clamp: .unbounded, threads: threads, singleThreadBelow: 0, instructionSet: isa)
                var alone = [Float](repeating: .nan, count: c.outputCount)
                conv.run(input: input, output: &alone)
                var unfused = [Float](repeating: .nan, count: c.outputCount)
                OptimizedFloatKernels.ElementwiseBinary(.add, clamp: c.clamp, threads: threads)
                    .run(alone, residual, output: &unfused, count: c.outputCount)

                var fused = [Float](repeating: .nan, count: c.outputCount)
                conv.runAddingResidual(input: input, residual: residual, output: &fused, clamp: c.clamp)
                let differing = fused.indices.first { fused[$0].bitPattern != unfused[$0].bitPattern }
                #expect(differing == nil, "\(context): output \(differing ?? -1) is \(differing.map { fused[$0] } ?? 0), unfused \(differing.map { unfused[$0] } ?? 0)")
                let bad = reference.indices.first {
                    !(abs(fused[$0] - reference[$0]) <= 1e-5 * magnitudes[$0] + 1e-30)
                }
                #expect(bad == nil, "\(context): output \(bad ?? -1) is \(bad.map { fused[$0] } ?? 0), reference \(bad.map { reference[$0] } ?? 0)")

                // The residual may be the output itself: each element is read just before it is written.
                var inPlace = residual
                inPlace.withUnsafeMutableBufferPointer { buffer in
                    conv.runAddingResidual(input: input, residual: buffer.baseAddress!, output: buffer.baseAddress!,
                                           clamp: c.clamp)
                }
                #expect(inPlace.indices.allSatisfy { inPlace[$0].bitPattern == unfused[$0].bitPattern }, "\(context): in place")
                checked += 1
            }
        }
    }
    #expect(checked == cases.count * instructionSets.count * 3)
}

/// The person model's residual ADDs, worked out by hand from `ssd-energy inspect`'s operator list: every
/// ADD follows the project convolution whose output it adds (its input 0) to the block's input (input 1).
@Test func personModelResidualAddsAreTheHandDerivedOnes() throws {
    let interpreter = try Interpreter(model: try SharedModels.load(SharedModels.person("fp32")))
    let adds = [9, 16, 20, 27, 31, 35, 42, 46, 59, 63]
    #expect(interpreter.residualAdds == adds.map { ResidualAdd(convolution: $0 - 1, add: $0, residualInput: 1) })
    // 8-bit ADDs requantize both inputs: not a float epilogue, so none is found.
    let quantized = try Interpreter(model: try SharedModels.load(SharedModels.person("int8")))
    #expect(quantized.residualAdds.isEmpty)
}
