import CKernels
import Foundation
import Testing
@testable import Inference

// The optimized 8-bit layer kernels (SOFTMAX, ADD, MUL, QUANTIZE, DEQUANTIZE, CONCATENATION, PAD)
// against the reference kernels (the oracle): outputs must be EXACTLY equal, element for element,
// for int8 and uint8, on random shapes and quantization parameters and on a real SOFTMAX input of
// the ST model whose output LiteRT computed.

private extension SeededRandom {
    /// Log-uniform in [low, high): scales spanning orders of magnitude.
    mutating func scale(_ low: Float, _ high: Float) -> Float { low * pow(high / low, unit()) }
    /// Values clustered near `center`, as activations are: the row maxima then leave most elements
    /// within a few steps, and some rows span the whole range.
    mutating func clustered<T: Quantized.Element>(_ count: Int, spread: Int, _: T.Type) -> [T] {
        let center = int(Int(T.min)...Int(T.max))
        return (0..<count).map { _ in T(clamping: center + int(-spread...spread)) }
    }
    mutating func zeroPoint<T: Quantized.Element>(_: T.Type) -> Int32 { Int32(int(Int(T.min)...Int(T.max))) }
}

private var instructionSets: [ck_isa] {
    [CK_ISA_PORTABLE, CK_ISA_AVX2_FMA, CK_ISA_AVX512].filter { $0.rawValue <= ck_detected_isa().rawValue }
}

private let activations: [Quantized.FusedActivation] = [.none, .relu, .relu6, .reluN1To1]

/// The first index where the arrays differ, with both values, or nil when they are equal.
private func firstDifference<T: Equatable>(_ actual: [T], _ expected: [T]) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) elements, expected \(expected.count)" }
    guard let i = actual.indices.first(where: { actual[$0] != expected[$0] }) else { return nil }
    let count = actual.indices.filter { actual[$0] != expected[$0] }.count
    return "\(count) elements differ, first at \(i): \(actual[i]) instead of \(expected[i])"
}

// MARK: - SOFTMAX

private func softmaxReference<T: Quantized.Element>(_ x: [T], depth: Int, params: Quantized.SoftmaxParams) throws -> [T] {
    var y = [T](repeating: 0, count: x.count)
    try x.withUnsafeBufferPointer { input in
        try y.withUnsafeMutableBufferPointer { try Quantized.softmax(input, depth: depth, output: $0, params: params) }
    }
    return y
}

private func softmaxOptimized<T: Quantized.Element>(_ x: [T], depth: Int, params: Quantized.SoftmaxParams,
                                                    threads: Int, isa: ck_isa) -> [T] {
    let kernel = OptimizedQuantizedKernels.Softmax<T>(params: params, depth: depth, threads: threads, isa: isa)
    var y = [T](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { input in
        y.withUnsafeMutableBufferPointer { kernel.run(input: input.baseAddress!, output: $0.baseAddress!, count: x.count) }
    }
    return y
}

private func checkSoftmax<T: Quantized.Element>(_: T.Type, random: inout SeededRandom) throws {
    let depth = random.int(1...120), rows = random.int(1...40)
    // Large scales put far elements below diffMin, small ones keep every element in the sum.
    let inputScale = random.scale(0.002, 2), beta = random.int(0...3) == 0 ? Float(random.scale(0.25, 4)) : 1
    let input = Quantized.TensorQuantization(scale: inputScale, zeroPoint: random.zeroPoint(T.self))
    let output = Quantized.TensorQuantization(scale: 1.0 / 256, zeroPoint: T.self == Int8.self ? -128 : 0)
    let params = try Quantized.softmaxParams(elementType: T.self, beta: beta, input: input, output: output)
    let x = random.int(0...1) == 0 ? random.elements(rows * depth, T.self)
        : random.clustered(rows * depth, spread: random.int(0...40), T.self)
    let expected = try softmaxReference(x, depth: depth, params: params)
    for isa in instructionSets {
        for threads in [1, 3] {
            let actual = softmaxOptimized(x, depth: depth, params: params, threads: threads, isa: isa)
            let difference = firstDifference(actual, expected)
            #expect(difference == nil, "\(T.self) \(rows)x\(depth) scale \(inputScale) beta \(beta) \(String(cString: ck_isa_name(isa))) threads \(threads): \(difference ?? "")")
        }
    }
}

@Test func optimizedSoftmaxEqualsReferenceOnRandomRows() throws {
    var random = SeededRandom(state: 11)
    for _ in 0..<60 {
        try checkSoftmax(Int8.self, random: &random)
        try checkSoftmax(UInt8.self, random: &random)
    }
}

/// Big enough to be split across threads.
@Test func optimizedSoftmaxEqualsReferenceWhenSplitAcrossThreads() throws {
    var random = SeededRandom(state: 12)
    let depth = 91, rows = 1000
    let input = Quantized.TensorQuantization(scale: 0.1, zeroPoint: 3)
    let output = Quantized.TensorQuantization(scale: 1.0 / 256, zeroPoint: -128)
    let params = try Quantized.softmaxParams(elementType: Int8.self, beta: 1, input: input, output: output)
    let x = random.clustered(rows * depth, spread: 60, Int8.self)
    let expected = try softmaxReference(x, depth: depth, params: params)
    for isa in instructionSets {
        #expect(firstDifference(softmaxOptimized(x, depth: depth, params: params, threads: 2, isa: isa), expected) == nil)
    }
}

/// The ST model's real class logits (Quantized/Fixtures, LiteRT BUILTIN_REF output): equal to LiteRT.
@Test func optimizedSoftmaxEqualsLiteRTOnTheSTModelsScores() throws {
    let fixture = try OpFixture.load("ssd_mobilenet_v2_fpnlite_10_256_int8_op201_softmax.json")
    let input = fixture.inputs[0], output = fixture.outputs[0]
    try #require(input.type == "int8")
    let params = try Quantized.softmaxParams(elementType: Int8.self, beta: Float(try fixture.number("beta")),
                                             input: input.quantization, output: output.quantization)
    let depth = try #require(input.shape.last)
    for isa in instructionSets {
        let actual = softmaxOptimized(try input.values(Int8.self), depth: depth, params: params, threads: 2, isa: isa)
        let difference = firstDifference(actual, try output.values(Int8.self))
        #expect(difference == nil, "\(String(cString: ck_isa_name(isa))): \(difference ?? "")")
    }
}

/// Input scales from tiny (every distance nonzero: 8 blocks of 32 entries, the gather path) to large (one
/// block, the register permute), on depths around the 16-lane and 64-byte steps, on every ISA.
@Test func optimizedSoftmaxEqualsReferenceForEveryTableLength() throws {
    var random = SeededRandom(state: 13)
    var blockCounts = Set<Int32>()
    let shapes = [(1, 5), (15, 7), (16, 3), (17, 4), (63, 3), (64, 2), (65, 3), (81, 20), (130, 2)]
    for step in 0..<150 {
        let inputScale = 0.05 * pow(20, Float(step) / 149)  // 0.05 ... 1.0
        for (depth, rows) in (0..<3).map({ _ in shapes[random.int(0...(shapes.count - 1))] }) {
            let input = Quantized.TensorQuantization(scale: inputScale, zeroPoint: random.zeroPoint(Int8.self))
            let output = Quantized.TensorQuantization(scale: 1.0 / 256, zeroPoint: -128)
            let params = try Quantized.softmaxParams(elementType: Int8.self, beta: 1, input: input, output: output)
            blockCounts.insert((OptimizedQuantizedKernels.Softmax<Int8>(params: params, depth: depth, threads: 1).tableLength + 31) / 32)
            let x = random.int(0...1) == 0 ? random.elements(rows * depth, Int8.self)
                : random.clustered(rows * depth, spread: 127, Int8.self)
            let expected = try softmaxReference(x, depth: depth, params: params)
            let xu = x.map { UInt8(bitPattern: $0) }
            let uInput = Quantized.TensorQuantization(scale: inputScale, zeroPoint: random.zeroPoint(UInt8.self))
            let uParams = try Quantized.softmaxParams(elementType: UInt8.self, beta: 1, input: uInput,
                                                      output: Quantized.TensorQuantization(scale: 1.0 / 256, zeroPoint: 0))
            let expectedUnsigned = try softmaxReference(xu, depth: depth, params: uParams)
            for isa in instructionSets {
                let difference = firstDifference(softmaxOptimized(x, depth: depth, params: params, threads: 1, isa: isa), expected)
                #expect(difference == nil, "int8 \(rows)x\(depth) scale \(inputScale) \(String(cString: ck_isa_name(isa))): \(difference ?? "")")
                let differenceUnsigned = firstDifference(softmaxOptimized(xu, depth: depth, params: uParams, threads: 1, isa: isa),
                                                         expectedUnsigned)
                #expect(differenceUnsigned == nil, "uint8 \(rows)x\(depth) scale \(inputScale) \(String(cString: ck_isa_name(isa))): \(differenceUnsigned ?? "")")
            }
        }
    }
    // Every code path: one and two 32-entry blocks (the specialized permutes), three or four (the general
    // permute loop) and more than four (the gather). (Five blocks did not occur on this range of scales.)
    #expect(blockCounts.contains(1) && blockCounts.contains(2) && blockCounts.contains(8), "\(blockCounts.sorted())")
    #expect(!blockCounts.isDisjoint(with: [3, 4]), "\(blockCounts.sorted())")
}

/// The row sums' reciprocals in C (16 lanes with AVX-512) against Quantized.reciprocal on any int32,
/// including 0, the extremes and wrapped (negative) sums.
@Test func optimizedSoftmaxReciprocalsEqualReference() {
    var random = SeededRandom(state: 14)
    var sums: [Int32] = [0, 1, -1, .min, .max, 1 << 19, 1 << 30, (1 << 19) * 81, 3, .max - 1]
    sums += (0..<20_000).map { _ in Int32(truncatingIfNeeded: random.next()) >> Int32(random.int(0...31)) }
    let expected = sums.map { Quantized.reciprocal($0, integerBits: Quantized.softmaxAccumulationIntegerBits) }
    for isa in instructionSets {
        var scales = [Int32](repeating: 0, count: sums.count), bits = scales
        ck_softmax_q_reciprocals(sums, Int32(sums.count), Quantized.softmaxAccumulationIntegerBits, &scales, &bits, isa)
        let wrong = sums.indices.filter { scales[$0] != expected[$0].value || bits[$0] != expected[$0].bitsOverUnit }
        #expect(wrong.isEmpty, "\(String(cString: ck_isa_name(isa))): \(wrong.count) differ, first sum \(wrong.first.map { sums[$0] } ?? 0)")
    }
}

// MARK: - ADD and MUL

enum OptimizedBinaryOp: CaseIterable { case add, mul }

private func checkBinary<T: Quantized.Element>(_ op: OptimizedBinaryOp, _: T.Type, exhaustive: Bool, random: inout SeededRandom) throws {
    let q1 = Quantized.TensorQuantization(scale: random.scale(0.005, 0.5), zeroPoint: random.zeroPoint(T.self))
    let q2 = Quantized.TensorQuantization(scale: random.scale(0.005, 0.5), zeroPoint: random.zeroPoint(T.self))
    let qy = Quantized.TensorQuantization(scale: random.scale(0.005, 1), zeroPoint: random.zeroPoint(T.self))
    let activation = activations[random.int(0...3)]
    // Every pair of input values once, or a random shape of random values.
    let shape = exhaustive ? [256, 256] : (0..<random.int(1...4)).map { _ in random.int(1...9) }
    let count = shape.reduce(1, *)
    let a: [T] = exhaustive ? (0..<count).map { T(truncatingIfNeeded: $0 >> 8) } : random.elements(count, T.self)
    let b: [T] = exhaustive ? (0..<count).map { T(truncatingIfNeeded: $0) } : random.elements(count, T.self)
    var expected = [T](repeating: 0, count: count)
    let kernel: OptimizedQuantizedKernels.ElementwiseBinary<T>
    try a.withUnsafeBufferPointer { x in
        try b.withUnsafeBufferPointer { z in
            try expected.withUnsafeMutableBufferPointer { y in
                switch op {
                case .add:
                    let params = try Quantized.addParams(elementType: T.self, input1: q1, input2: q2, output: qy,
                                                         activation: activation)
                    try Quantized.add(x, shape: shape, z, shape: shape, output: y, outputShape: shape, params: params)
                case .mul:
                    let params = try Quantized.mulParams(elementType: T.self, input1: q1, input2: q2, output: qy,
                                                         activation: activation)
                    try Quantized.mul(x, shape: shape, z, shape: shape, output: y, outputShape: shape, params: params)
                }
            }
        }
    }
    switch op {
    case .add:
        kernel = .add(try Quantized.addParams(elementType: T.self, input1: q1, input2: q2, output: qy,
                                              activation: activation), threads: 2)
    case .mul:
        kernel = .mul(try Quantized.mulParams(elementType: T.self, input1: q1, input2: q2, output: qy,
                                              activation: activation), threads: 2)
    }
    var actual = [T](repeating: 0, count: count)
    a.withUnsafeBufferPointer { x in
        b.withUnsafeBufferPointer { z in
            actual.withUnsafeMutableBufferPointer { kernel.run(x.baseAddress!, z.baseAddress!, output: $0.baseAddress!, count: count) }
        }
    }
    let difference = firstDifference(actual, expected)
    #expect(difference == nil, "\(op) \(T.self) \(shape) \(q1) \(q2) -> \(qy) \(activation): \(difference ?? "")")
}

@Test(arguments: OptimizedBinaryOp.allCases)
func optimizedBinaryEqualsReferenceOnEveryPairOfValues(op: OptimizedBinaryOp) throws {
    var random = SeededRandom(state: 21)
    for _ in 0..<6 {
        try checkBinary(op, Int8.self, exhaustive: true, random: &random)
        try checkBinary(op, UInt8.self, exhaustive: true, random: &random)
    }
}

@Test(arguments: OptimizedBinaryOp.allCases)
func optimizedBinaryEqualsReferenceOnRandomShapes(op: OptimizedBinaryOp) throws {
    var random = SeededRandom(state: 22)
    for _ in 0..<30 {
        try checkBinary(op, Int8.self, exhaustive: false, random: &random)
        try checkBinary(op, UInt8.self, exhaustive: false, random: &random)
    }
}

// MARK: - QUANTIZE and DEQUANTIZE

private func checkQuantize<T: Quantized.Element>(_: T.Type, _ values: [Float], scale: Float, zeroPoint: Int32) throws {
    let q = Quantized.TensorQuantization(scale: scale, zeroPoint: zeroPoint)
    var expected = [T](repeating: 0, count: values.count), actual = expected
    try values.withUnsafeBufferPointer { x in
        try expected.withUnsafeMutableBufferPointer { try Quantized.quantize(x, output: $0, quantization: q) }
        let kernel = OptimizedQuantizedKernels.Quantize<T>(scale: scale, zeroPoint: zeroPoint, threads: 2)
        actual.withUnsafeMutableBufferPointer { kernel.run(x.baseAddress!, output: $0.baseAddress!, count: values.count) }
    }
    let difference = firstDifference(actual, expected)
    #expect(difference == nil, "\(T.self) scale \(scale) zero point \(zeroPoint): \(difference ?? "")")
}

@Test func optimizedQuantizeEqualsReferenceOnHalvesExtremesAndRandomValues() throws {
    var random = SeededRandom(state: 31)
    // A power-of-two scale keeps x / scale exact, so the halves stay halves.
    let scale: Float = 0.125
    var edges: [Float] = [0, -0.0, .nan, .infinity, -.infinity, 1e30, -1e30, .greatestFiniteMagnitude,
                          .leastNonzeroMagnitude, 4194304 * scale, -4194304 * scale, 4194303.5 * scale,
                          2147483520 * scale, 2147483648 * scale, -2147483648 * scale, 0.49999997 * scale]
    for k in -300...300 { edges += [(Float(k) + 0.5) * scale, Float(k) * scale, Float(k).nextUp * scale] }
    for zeroPoint: Int32 in [0, -128, 127, 5, -3, 255] {
        try checkQuantize(Int8.self, edges, scale: scale, zeroPoint: zeroPoint)
        try checkQuantize(UInt8.self, edges, scale: scale, zeroPoint: zeroPoint)
    }
    for _ in 0..<20 {
        let scale = random.scale(1e-3, 2)
        let values = (0..<100_000).map { _ in (random.unit() * 2 - 1) * scale * 300 }
        try checkQuantize(Int8.self, values, scale: scale, zeroPoint: random.zeroPoint(Int8.self))
        try checkQuantize(UInt8.self, values, scale: scale, zeroPoint: random.zeroPoint(UInt8.self))
    }
}

private func checkRequantize<In: Quantized.Element, Out: Quantized.Element>(_: In.Type, _: Out.Type,
                                                                            random: inout SeededRandom) throws {
    let qIn = Quantized.TensorQuantization(scale: random.scale(0.001, 1), zeroPoint: random.zeroPoint(In.self))
    let qOut = Quantized.TensorQuantization(scale: random.scale(0.001, 1), zeroPoint: random.zeroPoint(Out.self))
    let multiplier = try Quantized.requantizeMultiplier(input: qIn, output: qOut)
    // Every byte value, then enough random ones (above TileRunner.smallestElementwiseSplit) that the
    // multi-threaded kernel splits the tensor.
    let values = (0..<256).map { In(truncatingIfNeeded: $0) }
        + (0..<20_000).map { _ in In(truncatingIfNeeded: random.zeroPoint(UInt8.self)) }
    var expected = [Out](repeating: 0, count: values.count)
    try values.withUnsafeBufferPointer { x in
        try expected.withUnsafeMutableBufferPointer {
            try Quantized.requantize(x, inputZeroPoint: qIn.zeroPoint, output: $0, outputZeroPoint: qOut.zeroPoint,
                                     multiplier: multiplier)
        }
        for isa in instructionSets {
            for threads in [1, 3] {
                let kernel = OptimizedQuantizedKernels.Requantize<In, Out>(
                    inputZeroPoint: qIn.zeroPoint, outputZeroPoint: qOut.zeroPoint, multiplier: multiplier,
                    threads: threads, isa: isa)
                var actual = expected.map { ~$0 }  // an element the kernel skips cannot pass
                actual.withUnsafeMutableBufferPointer { kernel.run(x.baseAddress!, output: $0.baseAddress!, count: values.count) }
                #expect(firstDifference(actual, expected) == nil,
                        "\(In.self) \(qIn) -> \(Out.self) \(qOut) threads \(threads) \(String(cString: ck_isa_name(isa)))")
            }
        }
    }
}

@Test func optimizedRequantizeEqualsReferenceOnEveryValue() throws {
    var random = SeededRandom(state: 32)
    for _ in 0..<20 {
        try checkRequantize(UInt8.self, Int8.self, random: &random)
        try checkRequantize(Int8.self, UInt8.self, random: &random)
        try checkRequantize(Int8.self, Int8.self, random: &random)
        try checkRequantize(UInt8.self, UInt8.self, random: &random)
    }
}

private func checkDequantize<T: Quantized.Element>(_: T.Type, random: inout SeededRandom) throws {
    let q = Quantized.TensorQuantization(scale: random.scale(1e-4, 10), zeroPoint: random.zeroPoint(T.self))
    let values = (0..<256).map { T(truncatingIfNeeded: $0) }
    var expected = [Float](repeating: 0, count: 256), actual = expected
    try values.withUnsafeBufferPointer { x in
        try expected.withUnsafeMutableBufferPointer { try Quantized.dequantize(x, quantization: q, output: $0) }
        let kernel = OptimizedQuantizedKernels.Dequantize<T>(scale: q.scale, zeroPoint: q.zeroPoint)
        actual.withUnsafeMutableBufferPointer { kernel.run(x.baseAddress!, output: $0.baseAddress!, count: 256) }
    }
    // Bit patterns: -0.0 and 0.0 must not pass for each other.
    #expect(firstDifference(actual.map(\.bitPattern), expected.map(\.bitPattern)) == nil, "\(T.self) \(q)")
}

@Test func optimizedDequantizeEqualsReferenceBitForBit() throws {
    var random = SeededRandom(state: 33)
    for _ in 0..<20 {
        try checkDequantize(Int8.self, random: &random)
        try checkDequantize(UInt8.self, random: &random)
    }
}

/// Every ISA, on lengths that leave vector tails, and a zero point far outside 8 bits where a float
/// multiply no longer equals the reference (Float(x - zeroPoint) rounds), so the table must be used.
@Test func optimizedDequantizeEqualsReferenceOnEveryISAAndLength() throws {
    var random = SeededRandom(state: 34)
    func check<T: Quantized.Element>(_: T.Type, count: Int, scale: Float, zeroPoint: Int32, multiplies: Bool) throws {
        let q = Quantized.TensorQuantization(scale: scale, zeroPoint: zeroPoint)
        let values = random.elements(count, T.self)
        var expected = [Float](repeating: 0, count: count)
        try values.withUnsafeBufferPointer { x in
            try expected.withUnsafeMutableBufferPointer { try Quantized.dequantize(x, quantization: q, output: $0) }
        }
        for isa in instructionSets {
            let kernel = OptimizedQuantizedKernels.Dequantize<T>(scale: scale, zeroPoint: zeroPoint, isa: isa)
            #expect(kernel.multiplyMatchesTable == multiplies, "\(T.self) \(q)")
            var actual = [Float](repeating: .nan, count: count)
            values.withUnsafeBufferPointer { x in
                actual.withUnsafeMutableBufferPointer { kernel.run(x.baseAddress!, output: $0.baseAddress!, count: count) }
            }
            #expect(firstDifference(actual.map(\.bitPattern), expected.map(\.bitPattern)) == nil,
                    "\(T.self) \(q) \(count) \(String(cString: ck_isa_name(isa)))")
        }
    }
    for count in [0, 1, 7, 8, 15, 16, 17, 31, 33, 1000, 6820 * 81 / 20] {
        try check(Int8.self, count: count, scale: random.scale(1e-4, 10), zeroPoint: random.zeroPoint(Int8.self), multiplies: true)
        try check(UInt8.self, count: count, scale: random.scale(1e-4, 10), zeroPoint: random.zeroPoint(UInt8.self), multiplies: true)
    }
    // 2^25 + 1 - x is not a float for most x; the double product of the exact integer rounds differently.
    try check(Int8.self, count: 1000, scale: 0.3, zeroPoint: (1 << 25) + 1, multiplies: false)
}

// MARK: - CONCATENATION

private func checkConcatenation<T: Quantized.Element>(_: T.Type, random: inout SeededRandom) throws {
    let rank = random.int(1...4)
    let axis = random.int(0...(rank - 1))
    var outputShape = (0..<rank).map { _ in random.int(1...6) }
    let outputQuantization = Quantized.TensorQuantization(scale: random.scale(0.01, 1), zeroPoint: random.zeroPoint(T.self))
    // int8 inputs must share the output's quantization (TFLite rejects others); uint8 ones may differ.
    let shapes: [[Int]] = (0..<random.int(1...4)).map { _ in
        var shape = outputShape
        shape[axis] = random.int(0...5)
        return shape
    }
    outputShape[axis] = shapes.reduce(0) { $0 + $1[axis] }
    let values = shapes.map { random.elements($0.reduce(1, *), T.self) }
    let quantizations = shapes.map { _ in
        T.self == UInt8.self && random.int(0...1) == 0
            ? Quantized.TensorQuantization(scale: random.scale(0.01, 1), zeroPoint: random.zeroPoint(T.self))
            : outputQuantization
    }
    // Buffers that outlive the kernel's pointers.
    let buffers = values.map { v -> UnsafeMutableBufferPointer<T> in
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(v.count, 1))
        _ = buffer.initialize(from: v)
        return buffer
    }
    defer { buffers.forEach { $0.deallocate() } }
    let inputs = (0..<shapes.count).map {
        Quantized.ConcatenationInput(data: UnsafeBufferPointer(rebasing: buffers[$0][..<values[$0].count]),
                                     shape: shapes[$0], quantization: quantizations[$0])
    }
    let count = outputShape.reduce(1, *)
    var expected = [T](repeating: 0, count: count), actual = expected
    try expected.withUnsafeMutableBufferPointer {
        try Quantized.concatenation(inputs, axis: axis, output: $0, outputShape: outputShape,
                                    outputQuantization: outputQuantization)
    }
    let kernel = OptimizedQuantizedKernels.Concatenation<T>(inputs, axis: axis, outputShape: outputShape,
                                                            outputQuantization: outputQuantization)
    actual.withUnsafeMutableBufferPointer { kernel.run(output: $0.baseAddress!) }
    let difference = firstDifference(actual, expected)
    #expect(difference == nil, "\(T.self) \(shapes) axis \(axis): \(difference ?? "")")
}

@Test func optimizedConcatenationEqualsReferenceOnRandomShapes() throws {
    var random = SeededRandom(state: 41)
    for _ in 0..<60 {
        try checkConcatenation(Int8.self, random: &random)
        try checkConcatenation(UInt8.self, random: &random)
    }
}

// MARK: - PAD

private func checkPad(elementSize: Int, padValue: [UInt8], random: inout SeededRandom) throws {
    let rank = random.int(0...4)
    let shape = (0..<rank).map { _ in random.int(0...5) == 0 ? 1 : random.int(1...7) }
    let before = (0..<rank).map { _ in random.int(0...1) == 0 ? 0 : random.int(0...3) }
    let after = (0..<rank).map { _ in random.int(0...1) == 0 ? 0 : random.int(0...3) }
    let inputBytes = (0..<(shape.reduce(1, *) * elementSize)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    let outputCount = (0..<rank).map { shape[$0] + before[$0] + after[$0] }.reduce(1, *) * elementSize
    // Different initial contents: every output byte must be written.
    var expected = [UInt8](repeating: 0xA5, count: outputCount), actual = [UInt8](repeating: 0x5A, count: outputCount)
    let kernel = try #require(OptimizedQuantizedKernels.Pad(inputShape: shape, before: before, after: after,
                                                            padValue: padValue))
    inputBytes.withUnsafeBytes { x in
        expected.withUnsafeMutableBytes {
            LayoutKernels.pad(x.baseAddress!, inputShape: shape, before: before, after: after, padValue: padValue,
                              output: $0.baseAddress!)
        }
        actual.withUnsafeMutableBytes { kernel.run(x.baseAddress!, output: $0.baseAddress!) }
    }
    let difference = firstDifference(actual, expected)
    #expect(difference == nil, "\(shape) before \(before) after \(after) element \(elementSize): \(difference ?? "")")
}

@Test func optimizedPadEqualsReferenceOnRandomShapes() throws {
    var random = SeededRandom(state: 51)
    for _ in 0..<100 {
        try checkPad(elementSize: 1, padValue: [UInt8(truncatingIfNeeded: random.next())], random: &random)
        try checkPad(elementSize: 4, padValue: [0, 0, 0, 0], random: &random)
    }
}

@Test func optimizedPadDeclinesWhatAMemsetCannotWrite() {
    #expect(OptimizedQuantizedKernels.Pad(inputShape: [2], before: [1], after: [1], padValue: [0, 0, 128, 63]) == nil)
    #expect(OptimizedQuantizedKernels.Pad(inputShape: [2], before: [-1], after: [1], padValue: [0]) == nil)
    #expect(OptimizedQuantizedKernels.Pad(inputShape: [2, 2], before: [1], after: [1], padValue: [0]) == nil)
}

// MARK: - RESIZE_BILINEAR

@Test(arguments: [(false, false), (true, false), (false, true)])
func optimizedResizeBilinearEqualsReferenceOnRandomShapes(alignCorners: Bool, halfPixelCenters: Bool) throws {
    var random = SeededRandom(state: 61)
    for _ in 0..<40 {
        // Some big enough to be split across threads.
        let big = random.int(0...4) == 0
        let shape = [random.int(1...2), random.int(1...9), random.int(1...9), big ? 128 : random.int(1...20)]
        let (height, width) = big ? (random.int(16...32), random.int(16...32)) : (random.int(1...20), random.int(1...20))
        let x = random.elements(shape.reduce(1, *), Int8.self)
        let count = shape[0] * height * width * shape[3]
        var expected = [Int8](repeating: 0, count: count), actual = expected
        try x.withUnsafeBufferPointer { input in
            try expected.withUnsafeMutableBufferPointer {
                try Quantized.resizeBilinear(input, inputShape: shape, output: $0, outputHeight: height, outputWidth: width,
                                             alignCorners: alignCorners, halfPixelCenters: halfPixelCenters)
            }
            let kernel = OptimizedQuantizedKernels.ResizeBilinearInt8(
                inputShape: shape, outputHeight: height, outputWidth: width, alignCorners: alignCorners,
                halfPixelCenters: halfPixelCenters, threads: 3)
            actual.withUnsafeMutableBufferPointer { kernel.run(input.baseAddress!, output: $0.baseAddress!) }
        }
        let difference = firstDifference(actual, expected)
        #expect(difference == nil, "\(shape) -> \(height)x\(width): \(difference ?? "")")
    }
}

/// The C row kernel on every ISA, with channel counts around the 8- and 16-lane steps and the ST model's
/// two real resizes (8x8x128 -> 16x16, 16x16x128 -> 32x32).
@Test(arguments: [(false, false), (true, false), (false, true)])
func optimizedResizeBilinearEqualsReferenceOnEveryISA(alignCorners: Bool, halfPixelCenters: Bool) throws {
    var random = SeededRandom(state: 62)
    var cases: [([Int], Int, Int)] = [([1, 8, 8, 128], 16, 16), ([1, 16, 16, 128], 32, 32)]
    for depth in [1, 7, 8, 9, 15, 16, 17, 31, 33] {
        cases.append(([random.int(1...2), random.int(1...6), random.int(1...6), depth], random.int(1...12), random.int(1...12)))
    }
    for (shape, height, width) in cases {
        // Extreme values too: the sums then come closest to the int32 range.
        let x = random.int(0...1) == 0 ? random.elements(shape.reduce(1, *), Int8.self)
            : (0..<shape.reduce(1, *)).map { _ in random.int(0...1) == 0 ? Int8.min : Int8.max }
        let count = shape[0] * height * width * shape[3]
        var expected = [Int8](repeating: 0, count: count)
        try x.withUnsafeBufferPointer { input in
            try expected.withUnsafeMutableBufferPointer {
                try Quantized.resizeBilinear(input, inputShape: shape, output: $0, outputHeight: height, outputWidth: width,
                                             alignCorners: alignCorners, halfPixelCenters: halfPixelCenters)
            }
        }
        for isa in instructionSets {
            let kernel = OptimizedQuantizedKernels.ResizeBilinearInt8(
                inputShape: shape, outputHeight: height, outputWidth: width, alignCorners: alignCorners,
                halfPixelCenters: halfPixelCenters, threads: 1, isa: isa)
            var actual = [Int8](repeating: 0x55, count: count)
            x.withUnsafeBufferPointer { input in
                actual.withUnsafeMutableBufferPointer { kernel.run(input.baseAddress!, output: $0.baseAddress!) }
            }
            let difference = firstDifference(actual, expected)
            #expect(difference == nil, "\(shape) -> \(height)x\(width) \(String(cString: ck_isa_name(isa))): \(difference ?? "")")
        }
    }
}
