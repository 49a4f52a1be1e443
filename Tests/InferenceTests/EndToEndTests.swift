import Foundation
import Testing
import TFLiteModel
@testable import Inference

/// The person detector on real COCO images vs LiteRT's reference kernels (fixtures from
/// Fixtures/make_fixtures.py). Agreement: |ours - litert| <= 1e-4 * max(1, |litert|) per element.
private let images = ["000000000139", "000000005001"]

private func input(_ image: String) throws -> [Float] {
    let pixels = [UInt8](try Data(contentsOf: Fixtures.url("e2e_\(image).u8")))
    #expect(pixels.count == 300 * 300 * 3)
    // Same float32 operations as numpy's x.astype(float32) / 127.5 - 1.
    return pixels.map { Float($0) / 127.5 - 1 }
}

@Test(arguments: [("fp32", Interpreter.WeightPrecision.float32), ("fp16", .float32), ("fp16", .float16OnTheFly)])
func personDetectorMatchesLiteRT(precision: String, weights: Interpreter.WeightPrecision) throws {
    let model = try SharedModels.load(SharedModels.person(precision))
    let interpreter = try Interpreter(model: model, options: .init(weightPrecision: weights))
    for image in images {
        try interpreter.setInput(0, floats: try input(image))
        try interpreter.invoke()
        for index in interpreter.outputs.indices {
            let expected = try NumPyArray(contentsOf: Fixtures.url("e2e_\(image)_\(precision)_\(index).npy"))
            let ours = interpreter.output(index)
            #expect(ours.info.shape == expected.shape)
            #expect(ours.info.type == expected.type)
            let a = try #require(ours.floats)
            let b = expected.bytes.withUnsafeBytes { raw in
                (0..<(expected.bytes.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
            }
            let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
            #expect(a.count == b.count)
            #expect(worst <= 1e-4, "\(precision) \(weights) \(image) output \(index): worst relative error \(worst)")
        }
    }
}

/// With only the reference kernels (the oracle), the whole graph equals LiteRT's reference kernels bit
/// for bit: same float operations in the same order. The optimized kernels (above) sum in another
/// order with fused multiply-adds, so they agree only within the tolerance.
@Test(arguments: ["fp32", "fp16"])
func referenceKernelsEqualLiteRTReferenceKernelsExactly(precision: String) throws {
    let model = try SharedModels.load(SharedModels.person(precision))
    let interpreter = try Interpreter(model: model, options: .init(kernels: .reference))
    for image in images {
        try interpreter.setInput(0, floats: try input(image))
        try interpreter.invoke()
        for index in interpreter.outputs.indices {
            let expected = try NumPyArray(contentsOf: Fixtures.url("e2e_\(image)_\(precision)_\(index).npy"))
            #expect(interpreter.output(index).bytes == expected.bytes, "\(precision) \(image) output \(index)")
        }
    }
}

@Test func repeatedInvocationsGiveIdenticalOutputs() throws {
    let interpreter = try Interpreter(model: try SharedModels.load(SharedModels.person("fp32")))
    try interpreter.setInput(0, floats: try input(images[0]))
    try interpreter.invoke()
    let first = interpreter.output(1).bytes
    try interpreter.invoke()
    #expect(interpreter.output(1).bytes == first)
}
