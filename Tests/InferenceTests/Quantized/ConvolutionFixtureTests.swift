// CONV_2D and DEPTHWISE_CONV_2D against LiteRT's reference kernels on real layers of the shared models.
import Testing
@testable import Inference

private func runConvolution<T: Quantized.Element>(_ fixture: OpFixture, _ type: T.Type) throws -> Mismatch {
    let input = fixture.inputs[0], filter = fixture.inputs[1]
    let bias = fixture.inputs.count > 2 ? try fixture.inputs[2].values(Int32.self) : nil
    let output = fixture.outputs[0]
    let depthwise = fixture.op == "DEPTHWISE_CONV_2D"
    let kind: Quantized.ConvolutionKind = depthwise ? .depthwise(depthMultiplier: try fixture.int("depthMultiplier")) : .regular
    let params = try Quantized.convolutionParams(
        kind, elementType: T.self,
        input: input.quantization, inputShape: input.shape,
        filter: filter.quantization, filterShape: filter.shape,
        output: output.quantization,
        strideHeight: try fixture.int("strideH"), strideWidth: try fixture.int("strideW"),
        dilationHeight: try fixture.int("dilationHFactor"), dilationWidth: try fixture.int("dilationWFactor"),
        padding: try fixture.padding(), activation: try fixture.activation())
    let outputShape = try Quantized.convolutionOutputShape(
        kind, inputShape: input.shape, filterShape: filter.shape,
        strideHeight: params.strideHeight, strideWidth: params.strideWidth,
        dilationHeight: params.dilationHeight, dilationWidth: params.dilationWidth, padding: try fixture.padding())
    #expect(outputShape == output.shape)
    let inputValues = try input.values(T.self), filterValues = try filter.values(T.self)
    var result = [T](repeating: 0, count: outputShape.reduce(1, *))
    try inputValues.withUnsafeBufferPointer { x in
        try filterValues.withUnsafeBufferPointer { w in
            try withOptionalBuffer(bias) { b in
                try result.withUnsafeMutableBufferPointer { y in
                    if depthwise {
                        try Quantized.depthwiseConv2D(input: x, inputShape: input.shape, filter: w, filterShape: filter.shape,
                                                      bias: b, output: y, outputShape: outputShape, params: params)
                    } else {
                        try Quantized.conv2D(input: x, inputShape: input.shape, filter: w, filterShape: filter.shape,
                                             bias: b, output: y, outputShape: outputShape, params: params)
                    }
                }
            }
        }
    }
    return Mismatch.between(result, try output.values(T.self))
}

private func runFixture(_ name: String) throws -> Mismatch {
    let fixture = try OpFixture.load(name)
    switch fixture.inputs[0].type {
    case "uint8": return try runConvolution(fixture, UInt8.self)
    case "int8": return try runConvolution(fixture, Int8.self)
    default: throw FixtureError("\(name): unexpected input type \(fixture.inputs[0].type)")
    }
}

@Test("CONV_2D matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "conv_2d"))
func conv2DMatchesReference(name: String) throws {
    let mismatch = try runFixture(name)
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test("DEPTHWISE_CONV_2D matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "depthwise_conv_2d"))
func depthwiseConv2DMatchesReference(name: String) throws {
    let mismatch = try runFixture(name)
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test func convolutionFixturesArePresent() {
    // The parameterised tests above would pass vacuously without fixtures.
    #expect(OpFixture.names(for: "conv_2d").count >= 15)
    #expect(OpFixture.names(for: "depthwise_conv_2d").count >= 9)
}
