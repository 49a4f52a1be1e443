import CKernels
import Foundation
import Testing
import TFLiteModel
@testable import Inference

// Fused 8-bit chains ([1x1 expand] -> depthwise -> [1x1 project], band by band) against the reference
// kernels run layer by layer and against the unfused optimized kernels: integer outputs must be
// EXACTLY equal, on every instruction set this CPU has, with several thread counts and band heights
// (a band of 1 row carries the most overlap rows from band to band).

/// One 8-bit convolution layer of a random chain, with what both the reference and the optimized
/// kernels need.
private struct Layer<T: Quantized.Element> {
    let depthwise: Bool
    let inputShape: [Int], filterShape: [Int], outputShape: [Int]
    let params: Quantized.ConvParams
    let filter: [T]
    let bias: [Int32]?

    /// A layer reading `inputShape` quantized as `inputQ`; its output quantization is drawn at random.
    static func random(depthwise: Bool, inputShape: [Int], inputQ: Quantized.TensorQuantization, outputChannels: Int,
                       kernel: Int, stride: Int, same: Bool, random: inout SeededRandom)
        throws -> (Layer, Quantized.TensorQuantization)? {
        let signed = T.self == Int8.self
        let inC = inputShape[3], outC = depthwise ? inC : outputChannels
        let kind: Quantized.ConvolutionKind = depthwise ? .depthwise(depthMultiplier: 1) : .regular
        let wShape = depthwise ? [1, kernel, kernel, outC] : [outC, kernel, kernel, inC]
        let padding: Quantized.Padding = same ? .same : .valid
        guard let yShape = try? Quantized.convolutionOutputShape(
            kind, inputShape: inputShape, filterShape: wShape, strideHeight: stride, strideWidth: stride,
            dilationHeight: 1, dilationWidth: 1, padding: padding), yShape[1] > 0, yShape[2] > 0 else { return nil }
        func zeroPoint() -> Int32 { Int32(signed ? random.int(-128...127) : random.int(0...255)) }
        let outputQ = Quantized.TensorQuantization(scales: [0.02 + random.unit() * 0.3], zeroPoints: [zeroPoint()])
        let filterQ: Quantized.TensorQuantization = signed
            ? .init(scales: (0..<outC).map { _ in 0.001 + random.unit() * 0.02 }, zeroPoints: .init(repeating: 0, count: outC),
                    quantizedDimension: depthwise ? 3 : 0)
            : .init(scales: [0.001 + random.unit() * 0.02], zeroPoints: [zeroPoint()])
        let activations: [Quantized.FusedActivation] = [.none, .relu, .relu6]
        let params = try Quantized.convolutionParams(
            kind, elementType: T.self, input: inputQ, inputShape: inputShape, filter: filterQ, filterShape: wShape,
            output: outputQ, strideHeight: stride, strideWidth: stride, dilationHeight: 1, dilationWidth: 1,
            padding: padding, activation: activations[random.int(0...2)])
        let bias: [Int32]? = random.int(0...3) == 0 ? nil : (0..<outC).map { _ in Int32(random.int(-20000...20000)) }
        let layer = Layer(depthwise: depthwise, inputShape: inputShape, filterShape: wShape, outputShape: yShape,
                          params: params, filter: random.elements(wShape.reduce(1, *), T.self), bias: bias)
        return (layer, outputQ)
    }

    func reference(_ input: [T]) throws -> [T] {
        var output = [T](repeating: 0, count: outputShape.reduce(1, *))
        try input.withUnsafeBufferPointer { x in
            try filter.withUnsafeBufferPointer { w in
                try output.withUnsafeMutableBufferPointer { y in
                    let b = bias?.withUnsafeBufferPointer { $0 }
                    if depthwise {
                        try Quantized.depthwiseConv2D(input: x, inputShape: inputShape, filter: w, filterShape: filterShape,
                                                      bias: b, output: y, outputShape: outputShape, params: params)
                    } else {
                        try Quantized.conv2D(input: x, inputShape: inputShape, filter: w, filterShape: filterShape,
                                             bias: b, output: y, outputShape: outputShape, params: params)
                    }
                }
            }
        }
        return output
    }

    func regular(threads: Int) throws -> OptimizedQuantizedKernels.Conv2D {
        try filter.withUnsafeBytes { w in
            try bias.withUnsafeBufferPointer { b in
                try #require(OptimizedQuantizedKernels.Conv2D(
                    filter: w.baseAddress!, bias: b?.baseAddress, isSigned: T.self == Int8.self, inputShape: inputShape,
                    filterShape: filterShape, outputShape: outputShape, params: params, threads: threads))
            }
        }
    }

    func depthwiseKernel(threads: Int) -> OptimizedQuantizedKernels.DepthwiseConv2D {
        filter.withUnsafeBytes { w in
            bias.withUnsafeBufferPointer { b in
                OptimizedQuantizedKernels.DepthwiseConv2D(
                    filter: w.baseAddress!, bias: b?.baseAddress, isSigned: T.self == Int8.self, inputShape: inputShape,
                    filterShape: filterShape, outputShape: outputShape, params: params, threads: threads)
            }
        }
    }
}

private extension Optional {
    func withUnsafeBufferPointer<E, R>(_ body: (UnsafeBufferPointer<E>?) throws -> R) rethrows -> R where Wrapped == [E] {
        guard let array = self else { return try body(nil) }
        return try array.withUnsafeBufferPointer { try body($0) }
    }
}

/// Runs `kernel(input, output)` on byte copies and returns the output.
private func run<T: Quantized.Element>(_ input: [T], outputCount: Int,
                                       _ kernel: (UnsafeRawPointer, UnsafeMutableRawPointer) -> Void) -> [T] {
    var output = [T](repeating: 0, count: outputCount)
    input.withUnsafeBytes { x in output.withUnsafeMutableBytes { y in kernel(x.baseAddress!, y.baseAddress!) } }
    return output
}

/// One random chain: reference layer by layer, then on every kernel path and thread count the unfused
/// optimized layers and the fused chain with several band heights, all byte for byte.
private func checkChain<T: Quantized.Element>(_: T.Type, random: inout SeededRandom) throws {
    let signed = T.self == Int8.self
    let hasExpand = random.int(0...2) != 0
    let hasProject = !hasExpand || random.int(0...2) != 0
    let height = random.int(1...19), width = random.int(1...19)
    // 32 and 64 channels take the depthwise VNNI paths; the others the general ones.
    let expanded = [random.int(1...40), 32, 64, random.int(33...100)][random.int(0...3)]
    let inC = hasExpand ? random.int(1...24) : expanded
    let stride = random.int(1...2), same = random.int(0...1) == 0, kernel = [3, 3, 3, 5][random.int(0...3)]
    let zeroPoint = Int32(signed ? random.int(-128...127) : random.int(0...255))
    var q = Quantized.TensorQuantization(scales: [0.02 + random.unit() * 0.05], zeroPoints: [zeroPoint])
    var shape = [1, height, width, inC]
    var layers: [Layer<T>] = []
    if hasExpand {
        guard let (l, yq) = try Layer<T>.random(depthwise: false, inputShape: shape, inputQ: q, outputChannels: expanded,
                                                kernel: 1, stride: 1, same: random.int(0...1) == 0, random: &random)
        else { return }
        (shape, q) = (l.outputShape, yq)
        layers.append(l)
    }
    guard let (dw, dq) = try Layer<T>.random(depthwise: true, inputShape: shape, inputQ: q, outputChannels: expanded,
                                              kernel: kernel, stride: stride, same: same, random: &random)
    else { return }
    (shape, q) = (dw.outputShape, dq)
    layers.append(dw)
    if hasProject {
        guard let (l, _) = try Layer<T>.random(depthwise: false, inputShape: shape, inputQ: q,
                                               outputChannels: random.int(1...40), kernel: 1, stride: 1,
                                               same: random.int(0...1) == 0, random: &random) else { return }
        layers.append(l)
    }
    let input = random.elements(layers[0].inputShape.reduce(1, *), T.self)
    var expected = input
    for layer in layers { expected = try layer.reference(expected) }
    let outputCount = layers.last!.outputShape.reduce(1, *)
    let context = "\(T.self) x\(layers[0].inputShape) -> \(layers.map { "\($0.depthwise ? "dw" : "1x1")\($0.outputShape)" }) "
        + "k\(kernel) s\(stride) \(same ? "same" : "valid")"

    defer { KernelPath.restoreDefault() }
    for path in kernelPaths {
        path.activate()
        for threads in [1, 2, 3] {
            let expand = hasExpand ? try layers[0].regular(threads: threads) : nil
            let depthwise = layers[hasExpand ? 1 : 0].depthwiseKernel(threads: threads)
            let project = hasProject ? try layers.last!.regular(threads: threads) : nil
            // Unfused: each layer through memory.
            var unfused = input
            if let expand { unfused = run(unfused, outputCount: layers[0].outputShape.reduce(1, *), expand.run) }
            unfused = run(unfused, outputCount: dw.outputShape.reduce(1, *), depthwise.run)
            if let project { unfused = run(unfused, outputCount: outputCount, project.run) }
            #expect(unfused == expected, "\(context) unfused on \(path) x\(threads)")
            for bandRows in [nil, 1, 2, 3] as [Int?] {
                let fused = try #require(OptimizedQuantizedKernels.FusedChain(
                    expand: expand, depthwise: depthwise, project: project, threads: threads, bandRows: bandRows))
                let output = run(input, outputCount: outputCount, fused.run)
                let mismatch = output.indices.first { output[$0] != expected[$0] }
                #expect(mismatch == nil, "\(context) fused, \(fused.bandRows)-row bands, on \(path) x\(threads): first mismatch at \(mismatch ?? -1) of \(outputCount)")
            }
        }
    }
}

/// Serialized: the random-chain tests switch the process-wide instruction set (ck_force_isa).
@Suite(.serialized) struct FusedQuantizedChainTests {
    @Test func fusedInt8ChainsEqualReferenceExactly() throws {
        var random = SeededRandom(state: 101)
        for _ in 0..<25 { try checkChain(Int8.self, random: &random) }
    }

    @Test func fusedUInt8ChainsEqualReferenceExactly() throws {
        var random = SeededRandom(state: 211)
        for _ in 0..<25 { try checkChain(UInt8.self, random: &random) }
    }

    @Test func layersThatDoNotFormAChainAreNotFused() throws {
        var random = SeededRandom(state: 307)
        let q = Quantized.TensorQuantization(scales: [0.05], zeroPoints: [3])
        let (pointwise, pq) = try #require(try Layer<Int8>.random(
            depthwise: false, inputShape: [1, 8, 8, 8], inputQ: q, outputChannels: 16, kernel: 1, stride: 1,
            same: true, random: &random))
        let (dw, _) = try #require(try Layer<Int8>.random(
            depthwise: true, inputShape: pointwise.outputShape, inputQ: pq, outputChannels: 16, kernel: 3, stride: 1,
            same: true, random: &random))
        let expand = try pointwise.regular(threads: 1), depthwise = dw.depthwiseKernel(threads: 1)
        #expect(OptimizedQuantizedKernels.FusedChain(expand: expand, depthwise: depthwise, project: nil, threads: 1) != nil)
        // A depthwise convolution alone is no chain.
        #expect(OptimizedQuantizedKernels.FusedChain(expand: nil, depthwise: depthwise, project: nil, threads: 1) == nil)
        // The expand layer's output does not have the depthwise input's shape.
        #expect(OptimizedQuantizedKernels.FusedChain(expand: expand, depthwise: depthwise, project: expand,
                                                     threads: 1) == nil)
    }
}

// Whole models: every chain the interpreter finds runs fused, and the outputs equal those of the same
// model run layer by layer, byte for byte, at 1 and 2 threads.
private let quantizedModels = [
    SharedModels.person("int8"),
    "models/ssd_mobilenet_v1_coco_quant/detect.tflite",
    "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite",
]

@Test("8-bit models give the same bytes fused and unfused", arguments: quantizedModels)
func fusedModelEqualsUnfused(path: String) throws {
    let model = try SharedModels.load(path)
    var random = SeededRandom(state: 5)
    var pixels: [UInt8] = []
    for threads in [1, 2] {
        let fused = try Interpreter(model: model, options: .init(threads: threads))
        let unfused = try Interpreter(model: model, options: .init(threads: threads, fusesConvolutionChains: false))
        let fusedKernels = fused.kernelOperatorNames.filter { $0.contains("+") }.count
        #expect(fusedKernels == fused.convolutionChains.count, "\(path): every chain fused")
        #expect(!fused.convolutionChains.isEmpty)
        #expect(!unfused.kernelOperatorNames.contains { $0.contains("+") })
        if pixels.isEmpty {
            // The 300x300 photo where it fits (post-processed outputs of noise could hide a difference),
            // else seeded noise.
            let photo = [UInt8](try Data(contentsOf: Fixtures.url("e2e_000000000139.u8")))
            let count = fused.inputs[0].shape.reduce(1, *)
            pixels = photo.count == count ? photo : random.elements(count, UInt8.self)
        }
        for interpreter in [fused, unfused] {
            try interpreter.setInput(0, bytes: pixels)
            try interpreter.invoke()
        }
        for i in fused.outputs.indices {
            let (a, b) = (fused.output(i).bytes, unfused.output(i).bytes)
            let mismatch = a.indices.first { a[$0] != b[$0] }
            #expect(a.count == b.count && mismatch == nil,
                    "\(path) output \(i) at \(threads) threads: first mismatch at byte \(mismatch ?? -1) of \(a.count)")
        }
    }
}
