// Small kernel cases whose expected outputs are worked out by hand from TFLite's definitions.
import Testing
@testable import Inference

private func run<T, U>(_ input: [T], count: Int, fill: U, _ body: (UnsafeBufferPointer<T>, UnsafeMutableBufferPointer<U>) throws -> Void) rethrows -> [U] {
    var result = [U](repeating: fill, count: count)
    try input.withUnsafeBufferPointer { x in try result.withUnsafeMutableBufferPointer { try body(x, $0) } }
    return result
}

@Test func tileRepeatsAlongEveryDimension() throws {
    let tiled = try run([1, 2, 3, 4, 5, 6] as [Int8], count: 24, fill: Int8(0)) {
        try Quantized.tile($0, inputShape: [2, 3], multiples: [2, 2], output: $1)
    }
    #expect(tiled == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    let inner = try run([7, 8] as [UInt8], count: 6, fill: UInt8(0)) {
        try Quantized.tile($0, inputShape: [2, 1], multiples: [1, 3], output: $1)
    }
    #expect(inner == [7, 7, 7, 8, 8, 8])
}

@Test func padFillsTheBorderWithThePadValue() throws {
    let padded = try run([1, 2, 3, 4] as [Int8], count: 9, fill: Int8(0)) {
        try Quantized.pad($0, inputShape: [1, 2, 2, 1], paddings: [(0, 0), (1, 0), (0, 1), (0, 0)], padValue: 9, output: $1)
    }
    #expect(padded == [9, 9, 9, 1, 2, 9, 3, 4, 9])
    #expect(throws: Quantized.KernelError.self) {
        _ = try run([1] as [Int8], count: 1, fill: Int8(0)) {
            try Quantized.pad($0, inputShape: [1], paddings: [(-1, 1)], padValue: 0, output: $1)
        }
    }
}

@Test func addWithUnitScalesIsSaturatingIntegerAdditionAndBroadcasts() throws {
    // With every scale 1 and zero point 0 the multipliers are exact powers of two (input 2^-1, output
    // 2^-19 with the 2^20 left shift), so ADD is plain addition clamped to int8.
    let unit = Quantized.TensorQuantization(scale: 1, zeroPoint: 0)
    let params = try Quantized.addParams(elementType: Int8.self, input1: unit, input2: unit, output: unit, activation: .none)
    let a: [Int8] = [1, 2, 3, 100, -100, -5]
    let b: [Int8] = [10, 20, 100]
    let sum = try b.withUnsafeBufferPointer { y in
        try run(a, count: 6, fill: Int8(0)) {
            try Quantized.add($0, shape: [2, 3], y, shape: [3], output: $1, outputShape: [2, 3], params: params)
        }
    }
    #expect(sum == [11, 22, 103, 110, -80, 95])
    let column: [Int8] = [1, -1]
    let outer = try column.withUnsafeBufferPointer { y in
        try run([100, 0, -128] as [Int8], count: 6, fill: Int8(0)) {
            try Quantized.add($0, shape: [1, 3], y, shape: [2, 1], output: $1, outputShape: [2, 3], params: params)
        }
    }
    #expect(outer == [101, 1, -127, 99, -1, -128])
    let relu = try Quantized.addParams(elementType: Int8.self, input1: unit, input2: unit, output: unit, activation: .relu)
    let clamped = try [Int8(-3)].withUnsafeBufferPointer { y in
        try run([Int8(1)], count: 1, fill: Int8(0)) {
            try Quantized.add($0, shape: [1], y, shape: [1], output: $1, outputShape: [1], params: relu)
        }
    }
    #expect(clamped == [0])
}

@Test func quantizeRoundsHalvesAwayFromZeroAndClamps() throws {
    let quantization = Quantized.TensorQuantization(scale: 0.5, zeroPoint: -1)
    // x / 0.5: 0.25 -> 0.5 -> 1, -0.25 -> -0.5 -> -1, 0.75 -> 1.5 -> 2; then + zero point, clamped.
    let input: [Float] = [0.25, -0.25, 0.75, 1000, -1000, .infinity, .nan]
    let int8 = try run(input, count: input.count, fill: Int8(0)) {
        try Quantized.quantize($0, output: $1, quantization: quantization)
    }
    #expect(int8 == [0, -2, 1, 127, -128, 127, -1])
    let uint8 = try run([0.25, -3, 1000] as [Float], count: 3, fill: UInt8(0)) {
        try Quantized.quantize($0, output: $1, quantization: .init(scale: 0.5, zeroPoint: 1))
    }
    #expect(uint8 == [2, 0, 255])
}

@Test func dequantizeSubtractsTheZeroPointAndScales() throws {
    let values = try run([0, 128, 255] as [UInt8], count: 3, fill: Float.nan) {
        try Quantized.dequantize($0, quantization: .init(scale: 0.5, zeroPoint: 128), output: $1)
    }
    #expect(values == [-64, 0, 63.5])
    // float16 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF.
    let halves = try run([0x3C00, 0xC000, 0x7BFF] as [UInt16], count: 3, fill: Float.nan) {
        try Quantized.dequantizeFloat16($0, output: $1)
    }
    #expect(halves == [1, -2, 65504])
}

@Test func kernelsRejectInconsistentModelsWithAnError() {
    typealias Q = Quantized
    let a = Q.TensorQuantization(scale: 0.1, zeroPoint: 0)
    let b = Q.TensorQuantization(scale: 0.2, zeroPoint: 0)
    // int8 CONCATENATION must not need rescaling (TFLite's Prepare rejects it).
    #expect(throws: Q.KernelError.self) {
        try [Int8(1)].withUnsafeBufferPointer { x in
            _ = try run([Int8(2)], count: 2, fill: Int8(0)) { y, out in
                try Q.concatenation([.init(data: x, shape: [1], quantization: a), .init(data: y, shape: [1], quantization: b)],
                                    axis: 0, output: out, outputShape: [2], outputQuantization: a)
            }
        }
    }
    // Per-channel filters are int8 only.
    #expect(throws: Q.KernelError.self) {
        _ = try Q.convolutionParams(.regular, elementType: UInt8.self, input: a, inputShape: [1, 2, 2, 1],
                                    filter: .init(scales: [0.1, 0.2], zeroPoints: [0, 0]), filterShape: [2, 1, 1, 1],
                                    output: a, strideHeight: 1, strideWidth: 1, padding: .same, activation: .none)
    }
    // SOFTMAX output must be scale 1/256 with the type's minimum as zero point.
    #expect(throws: Q.KernelError.self) {
        _ = try Q.softmaxParams(elementType: Int8.self, beta: 1, input: a, output: .init(scale: 1.0 / 256, zeroPoint: 0))
    }
    // Buffer sizes that do not match the shapes.
    #expect(throws: Q.KernelError.self) {
        _ = try run([Int8](repeating: 0, count: 3), count: 4, fill: Int8(0)) {
            try Q.resizeBilinear($0, inputShape: [1, 2, 2, 1], output: $1, outputHeight: 2, outputWidth: 2,
                                 alignCorners: false, halfPixelCenters: false)
        }
    }
}

@Test func meanRefusesTheCasesNotReproducedFromTFLite() {
    // int8, equal quantization, reduction off the spatial axes: LiteRT 2.3 gave outputs no formula
    // here reproduces, so the kernel refuses rather than guesses.
    let q = Quantized.TensorQuantization(scale: 0.1, zeroPoint: 5)
    #expect(throws: Quantized.KernelError.self) {
        _ = try run([Int8](repeating: 1, count: 6), count: 2, fill: Int8(0)) {
            try Quantized.mean($0, inputShape: [2, 3], axes: [-1], keepDims: false,
                               inputQuantization: q, output: $1, outputQuantization: q)
        }
    }
    // uint8 over axes {1, 2} with keep_dims: likewise.
    #expect(throws: Quantized.KernelError.self) {
        _ = try run([UInt8](repeating: 1, count: 8), count: 2, fill: UInt8(0)) {
            try Quantized.mean($0, inputShape: [1, 2, 2, 2], axes: [1, 2], keepDims: true,
                               inputQuantization: q, output: $1, outputQuantization: q)
        }
    }
}
