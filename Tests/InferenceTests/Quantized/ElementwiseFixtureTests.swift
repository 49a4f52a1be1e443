// ADD, LOGISTIC, QUANTIZE and DEQUANTIZE against LiteRT's reference kernels on real tensors of the
// shared models.
import Testing
@testable import Inference

private func elementType(_ tensor: OpFixture.Tensor) -> String { tensor.type }

private func runAdd<T: Quantized.Element>(_ fixture: OpFixture, _ type: T.Type) throws -> Mismatch {
    let a = fixture.inputs[0], b = fixture.inputs[1], out = fixture.outputs[0]
    let params = try Quantized.addParams(elementType: T.self, input1: a.quantization, input2: b.quantization,
                                         output: out.quantization, activation: try fixture.activation())
    let x = try a.values(T.self), y = try b.values(T.self)
    var result = [T](repeating: 0, count: out.shape.reduce(1, *))
    try x.withUnsafeBufferPointer { x in
        try y.withUnsafeBufferPointer { y in
            try result.withUnsafeMutableBufferPointer { z in
                try Quantized.add(x, shape: a.shape, y, shape: b.shape, output: z, outputShape: out.shape, params: params)
            }
        }
    }
    return Mismatch.between(result, try out.values(T.self))
}

@Test("ADD matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "add"))
func addMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = fixture.inputs[0].type == "uint8" ? try runAdd(fixture, UInt8.self) : try runAdd(fixture, Int8.self)
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test("LOGISTIC matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "logistic"))
func logisticMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let input = fixture.inputs[0], output = fixture.outputs[0]
    #expect(input.type == "uint8")
    let table = try Quantized.logisticTable(elementType: UInt8.self, input: input.quantization, output: output.quantization)
    let x = try input.values(UInt8.self)
    var result = [UInt8](repeating: 0, count: x.count)
    try x.withUnsafeBufferPointer { x in try result.withUnsafeMutableBufferPointer { try table.apply(x, $0) } }
    let mismatch = Mismatch.between(result, try output.values(UInt8.self))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test("QUANTIZE (uint8 -> int8) matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "quantize"))
func requantizeMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let input = fixture.inputs[0], output = fixture.outputs[0]
    #expect(input.type == "uint8" && output.type == "int8")
    let multiplier = try Quantized.requantizeMultiplier(input: input.quantization, output: output.quantization)
    let x = try input.values(UInt8.self)
    var result = [Int8](repeating: 0, count: x.count)
    try x.withUnsafeBufferPointer { x in
        try result.withUnsafeMutableBufferPointer {
            try Quantized.requantize(x, inputZeroPoint: input.quantization.zeroPoint, output: $0,
                                     outputZeroPoint: output.quantization.zeroPoint, multiplier: multiplier)
        }
    }
    let mismatch = Mismatch.between(result, try output.values(Int8.self))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test("DEQUANTIZE matches LiteRT reference kernels bit for bit", arguments: OpFixture.names(for: "dequantize"))
func dequantizeMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let input = fixture.inputs[0], output = fixture.outputs[0]
    let expected = try output.values(Float.self)
    var result = [Float](repeating: .nan, count: expected.count)
    try result.withUnsafeMutableBufferPointer { y in
        switch input.type {
        case "int8": try input.values(Int8.self).withUnsafeBufferPointer { try Quantized.dequantize($0, quantization: input.quantization, output: y) }
        case "uint8": try input.values(UInt8.self).withUnsafeBufferPointer { try Quantized.dequantize($0, quantization: input.quantization, output: y) }
        case "float16": try input.values(UInt16.self).withUnsafeBufferPointer { try Quantized.dequantizeFloat16($0, output: y) }
        default: throw FixtureError("\(name): unexpected input type \(input.type)")
        }
    }
    let mismatch = Mismatch.between(result.map(\.bitPattern), expected.map(\.bitPattern))
    #expect(mismatch.count == 0, "\(name): \(mismatch.count) of \(expected.count) floats differ")
}

@Test func elementwiseFixturesArePresent() {
    #expect(OpFixture.names(for: "add").count >= 3)
    #expect(OpFixture.names(for: "logistic").count >= 1)
    #expect(OpFixture.names(for: "quantize").count >= 2)
    #expect(OpFixture.names(for: "dequantize").count >= 4)
}
