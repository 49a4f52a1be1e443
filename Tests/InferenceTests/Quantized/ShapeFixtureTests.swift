// CONCATENATION, PAD, RESIZE_BILINEAR and SOFTMAX against LiteRT's reference kernels on real tensors
// of the shared models.
import Testing
@testable import Inference

private func runConcatenation<T: Quantized.Element>(_ fixture: OpFixture, _ type: T.Type) throws -> Mismatch {
    let values = try fixture.inputs.map { try $0.values(T.self) }
    let output = fixture.outputs[0]
    var result = [T](repeating: 0, count: output.shape.reduce(1, *))
    // Keep every input buffer alive while the kernel reads it.
    let pointers = values.map { values -> UnsafeMutableBufferPointer<T> in
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: values.count)
        _ = buffer.initialize(from: values)
        return buffer
    }
    defer { pointers.forEach { $0.deallocate() } }
    let inputs = zip(fixture.inputs, pointers).map {
        Quantized.ConcatenationInput(data: UnsafeBufferPointer($1), shape: $0.shape, quantization: $0.quantization)
    }
    try result.withUnsafeMutableBufferPointer {
        try Quantized.concatenation(inputs, axis: try fixture.int("axis"), output: $0, outputShape: output.shape,
                                    outputQuantization: output.quantization)
    }
    return Mismatch.between(result, try output.values(T.self))
}

@Test("CONCATENATION matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "concatenation"))
func concatenationMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = fixture.inputs[0].type == "uint8"
        ? try runConcatenation(fixture, UInt8.self) : try runConcatenation(fixture, Int8.self)
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test("PAD matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "pad"))
func padMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let input = fixture.inputs[0], output = fixture.outputs[0]
    #expect(input.type == "int8")
    let flat = try fixture.inputs[1].values(Int32.self)
    let paddings = stride(from: 0, to: flat.count, by: 2).map { (before: Int(flat[$0]), after: Int(flat[$0 + 1])) }
    var result = [Int8](repeating: 0, count: output.shape.reduce(1, *))
    try input.values(Int8.self).withUnsafeBufferPointer { x in
        try result.withUnsafeMutableBufferPointer {
            try Quantized.pad(x, inputShape: input.shape, paddings: paddings,
                              padValue: Int8(output.quantization.zeroPoint), output: $0)
        }
    }
    let mismatch = Mismatch.between(result, try output.values(Int8.self))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test("RESIZE_BILINEAR matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "resize_bilinear"))
func resizeBilinearMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let input = fixture.inputs[0], output = fixture.outputs[0]
    #expect(input.type == "int8")
    let size = try fixture.inputs[1].values(Int32.self)
    var result = [Int8](repeating: 0, count: output.shape.reduce(1, *))
    try input.values(Int8.self).withUnsafeBufferPointer { x in
        try result.withUnsafeMutableBufferPointer {
            try Quantized.resizeBilinear(x, inputShape: input.shape, output: $0,
                                         outputHeight: Int(size[0]), outputWidth: Int(size[1]),
                                         alignCorners: try fixture.bool("alignCorners"),
                                         halfPixelCenters: try fixture.bool("halfPixelCenters"))
        }
    }
    let mismatch = Mismatch.between(result, try output.values(Int8.self))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test("SOFTMAX matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "softmax"))
func softmaxMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let input = fixture.inputs[0], output = fixture.outputs[0]
    #expect(input.type == "int8")
    let params = try Quantized.softmaxParams(elementType: Int8.self, beta: Float(try fixture.number("beta")),
                                             input: input.quantization, output: output.quantization)
    var result = [Int8](repeating: 0, count: output.shape.reduce(1, *))
    try input.values(Int8.self).withUnsafeBufferPointer { x in
        try result.withUnsafeMutableBufferPointer {
            try Quantized.softmax(x, depth: input.shape.last ?? 1, output: $0, params: params)
        }
    }
    let mismatch = Mismatch.between(result, try output.values(Int8.self))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test func shapeFixturesArePresent() {
    #expect(OpFixture.names(for: "concatenation").count >= 4)
    #expect(OpFixture.names(for: "pad").count >= 1)
    #expect(OpFixture.names(for: "resize_bilinear").count >= 2)
    #expect(OpFixture.names(for: "softmax").count >= 1)
}
