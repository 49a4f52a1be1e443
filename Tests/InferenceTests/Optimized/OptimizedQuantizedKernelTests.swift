import CKernels
import Testing
@testable import Inference

// The optimized 8-bit convolutions against the reference kernels (Kernels/Quantized): integer outputs
// must be EXACTLY equal, on every instruction set this CPU has and with several thread counts, for
// int8 with per-channel filter scales and uint8 with per-tensor scales and non-zero zero points.

private struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func elements<T: Quantized.Element>(_ count: Int, _: T.Type) -> [T] {
        (0..<count).map { _ in T(truncatingIfNeeded: next()) }
    }
}

private var instructionSets: [ck_isa] {
    [CK_ISA_PORTABLE, CK_ISA_AVX2_FMA, CK_ISA_AVX512].filter { $0.rawValue <= ck_detected_isa().rawValue }
}

private let activations: [Quantized.FusedActivation] = [.none, .relu, .relu6]

/// One random case: shapes, quantization (per-channel filter scales for int8), reference and optimized.
private func check<T: Quantized.Element>(_: T.Type, depthwise: Bool, random: inout Generator) throws {
    let kernel = random.int(1...3) * 2 - 1
    let stride = random.int(1...2), dilation = random.int(0...4) == 0 ? 2 : 1
    let same = random.int(0...1) == 0
    let height = random.int(1...15), width = random.int(1...15), inC = random.int(1...40)
    let outC = depthwise ? inC : random.int(1...50)
    let fh = kernel, fw = random.int(0...3) == 0 && !depthwise ? 1 : kernel
    let kind: Quantized.ConvolutionKind = depthwise ? .depthwise(depthMultiplier: 1) : .regular
    let xShape = [1, height, width, inC], wShape = depthwise ? [1, fh, fw, outC] : [outC, fh, fw, inC]
    let padding: Quantized.Padding = same ? .same : .valid
    guard let yShape = try? Quantized.convolutionOutputShape(
        kind, inputShape: xShape, filterShape: wShape, strideHeight: stride, strideWidth: stride,
        dilationHeight: dilation, dilationWidth: dilation, padding: padding), yShape[1] > 0, yShape[2] > 0 else { return }
    let signed = T.self == Int8.self
    let inputQ = Quantized.TensorQuantization(scales: [0.02 + random.unit() * 0.05],
                                              zeroPoints: [Int32(random.int(signed ? -128...127 : 0...255))])
    let outputQ = Quantized.TensorQuantization(scales: [0.05 + random.unit() * 0.3],
                                               zeroPoints: [Int32(random.int(signed ? -128...127 : 0...255))])
    let filterQ: Quantized.TensorQuantization = signed
        ? .init(scales: (0..<outC).map { _ in 0.001 + random.unit() * 0.02 }, zeroPoints: .init(repeating: 0, count: outC),
                quantizedDimension: depthwise ? 3 : 0)
        : .init(scales: [0.001 + random.unit() * 0.02], zeroPoints: [Int32(random.int(0...255))])
    let params = try Quantized.convolutionParams(
        kind, elementType: T.self, input: inputQ, inputShape: xShape, filter: filterQ, filterShape: wShape,
        output: outputQ, strideHeight: stride, strideWidth: stride, dilationHeight: dilation, dilationWidth: dilation,
        padding: padding, activation: activations[random.int(0...2)])
    let input = random.elements(xShape.reduce(1, *), T.self)
    let filter = random.elements(wShape.reduce(1, *), T.self)
    let bias: [Int32]? = random.int(0...3) == 0 ? nil : (0..<outC).map { _ in Int32(random.int(-20000...20000)) }
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
    defer { ck_force_isa(ck_detected_isa()) }
    for isa in instructionSets {
        ck_force_isa(isa)
        for threads in [1, 3] {
            var optimized = [T](repeating: 0, count: count)
            input.withUnsafeBytes { x in
                filter.withUnsafeBytes { w in
                    optimized.withUnsafeMutableBytes { y in
                        let b = bias?.withUnsafeBufferPointer { $0.baseAddress }
                        if depthwise {
                            OptimizedQuantizedKernels.DepthwiseConv2D(
                                filter: w.baseAddress!, bias: b ?? nil, isSigned: signed, inputShape: xShape,
                                filterShape: wShape, outputShape: yShape, params: params, threads: threads)
                                .run(input: x.baseAddress!, output: y.baseAddress!)
                        } else {
                            OptimizedQuantizedKernels.Conv2D(
                                filter: w.baseAddress!, bias: b ?? nil, isSigned: signed, inputShape: xShape,
                                filterShape: wShape, outputShape: yShape, params: params, threads: threads)
                                .run(input: x.baseAddress!, output: y.baseAddress!)
                        }
                    }
                }
            }
            let mismatch = optimized.indices.first { optimized[$0] != reference[$0] }
            #expect(mismatch == nil, "\(context) on \(String(cString: ck_isa_name(isa))) x\(threads): first mismatch at \(mismatch ?? -1)")
        }
    }
}

@Test func optimizedInt8PerChannelConvolutionsEqualReferenceExactly() throws {
    var random = Generator(state: 11)
    for _ in 0..<30 {
        try check(Int8.self, depthwise: false, random: &random)
        try check(Int8.self, depthwise: true, random: &random)
    }
}

@Test func optimizedUInt8PerTensorConvolutionsEqualReferenceExactly() throws {
    var random = Generator(state: 23)
    for _ in 0..<30 {
        try check(UInt8.self, depthwise: false, random: &random)
        try check(UInt8.self, depthwise: true, random: &random)
    }
}
