// ADD, MUL, LOGISTIC, QUANTIZE and DEQUANTIZE against LiteRT's reference kernels, on real tensors of
// the shared models and on synthetic one-operator models.
import Testing
@testable import Inference

private struct BinaryCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let a = fixture.inputs[0], b = fixture.inputs[1], out = fixture.outputs[0]
        let x = try a.values(T.self), y = try b.values(T.self)
        var result = [T](repeating: 0, count: out.shape.reduce(1, *))
        let isAdd = fixture.op == "ADD"
        let addParams = isAdd ? try Quantized.addParams(elementType: T.self, input1: a.quantization, input2: b.quantization,
                                                        output: out.quantization, activation: try fixture.activation()) : nil
        let mulParams = isAdd ? nil : try Quantized.mulParams(elementType: T.self, input1: a.quantization, input2: b.quantization,
                                                              output: out.quantization, activation: try fixture.activation())
        try x.withUnsafeBufferPointer { x in
            try y.withUnsafeBufferPointer { y in
                try result.withUnsafeMutableBufferPointer { z in
                    if let addParams {
                        try Quantized.add(x, shape: a.shape, y, shape: b.shape, output: z, outputShape: out.shape, params: addParams)
                    } else if let mulParams {
                        try Quantized.mul(x, shape: a.shape, y, shape: b.shape, output: z, outputShape: out.shape, params: mulParams)
                    }
                }
            }
        }
        return Mismatch.between(result, try out.values(T.self))
    }
}

@Test("ADD matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "add"))
func addMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(BinaryCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test("MUL matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "mul"))
func mulMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(BinaryCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

private struct LogisticCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let input = fixture.inputs[0], output = fixture.outputs[0]
        let table = try Quantized.logisticTable(elementType: T.self, input: input.quantization, output: output.quantization)
        let x = try input.values(T.self)
        var result = [T](repeating: 0, count: x.count)
        try x.withUnsafeBufferPointer { x in try result.withUnsafeMutableBufferPointer { try table.apply(x, $0) } }
        return Mismatch.between(result, try output.values(T.self))
    }
}

@Test("LOGISTIC matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "logistic"))
func logisticMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(LogisticCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

/// QUANTIZE from float, or from another 8-bit type, into the output's type T.
private struct QuantizeCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let input = fixture.inputs[0], output = fixture.outputs[0]
        var result = [T](repeating: 0, count: output.shape.reduce(1, *))
        try result.withUnsafeMutableBufferPointer { y in
            func requantize<In: Quantized.Element>(_ inputType: In.Type) throws {
                let multiplier = try Quantized.requantizeMultiplier(input: input.quantization, output: output.quantization)
                try input.values(In.self).withUnsafeBufferPointer {
                    try Quantized.requantize($0, inputZeroPoint: input.quantization.zeroPoint, output: y,
                                             outputZeroPoint: output.quantization.zeroPoint, multiplier: multiplier)
                }
            }
            switch input.type {
            case "float32":
                try input.values(Float.self).withUnsafeBufferPointer {
                    try Quantized.quantize($0, output: y, quantization: output.quantization)
                }
            case "uint8": try requantize(UInt8.self)
            case "int8": try requantize(Int8.self)
            default: throw FixtureError("\(fixture.source): unexpected QUANTIZE input \(input.type)")
            }
        }
        return Mismatch.between(result, try output.values(T.self))
    }
}

@Test("QUANTIZE matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "quantize"))
func quantizeMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.outputs[0].check(QuantizeCheck(fixture: fixture))
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
    // The parameterised tests above would pass vacuously without fixtures.
    #expect(OpFixture.names(for: "add").count >= 5)
    #expect(OpFixture.names(for: "mul").count >= 2)
    #expect(OpFixture.names(for: "logistic").count >= 2)
    #expect(OpFixture.names(for: "quantize").count >= 5)
    #expect(OpFixture.names(for: "dequantize").count >= 5)
}
