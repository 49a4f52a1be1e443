// CONCATENATION, PAD, RESIZE_BILINEAR, SOFTMAX and pooling against LiteRT's reference kernels, on
// real tensors of the shared models and on synthetic one-operator models.
import Testing
@testable import Inference

private struct ConcatenationCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let output = fixture.outputs[0]
        var result = [T](repeating: 0, count: output.shape.reduce(1, *))
        // Copies that stay alive while the kernel reads them.
        let buffers = try fixture.inputs.map { tensor -> UnsafeMutableBufferPointer<T> in
            let values = try tensor.values(T.self)
            let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let inputs = zip(fixture.inputs, buffers).map {
            Quantized.ConcatenationInput(data: UnsafeBufferPointer($1), shape: $0.shape, quantization: $0.quantization)
        }
        try result.withUnsafeMutableBufferPointer {
            try Quantized.concatenation(inputs, axis: try fixture.int("axis"), output: $0, outputShape: output.shape,
                                        outputQuantization: output.quantization)
        }
        return Mismatch.between(result, try output.values(T.self))
    }
}

@Test("CONCATENATION matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "concatenation"))
func concatenationMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(ConcatenationCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

private struct PadCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let input = fixture.inputs[0], output = fixture.outputs[0]
        let flat = try fixture.inputs[1].values(Int32.self)
        let paddings = stride(from: 0, to: flat.count, by: 2).map { (before: Int(flat[$0]), after: Int(flat[$0 + 1])) }
        var result = [T](repeating: 0, count: output.shape.reduce(1, *))
        try input.values(T.self).withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBufferPointer {
                try Quantized.pad(x, inputShape: input.shape, paddings: paddings,
                                  padValue: T(truncatingIfNeeded: output.quantization.zeroPoint), output: $0)
            }
        }
        return Mismatch.between(result, try output.values(T.self))
    }
}

@Test("PAD matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "pad"))
func padMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(PadCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

private struct ResizeCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let input = fixture.inputs[0], output = fixture.outputs[0]
        let size = try fixture.inputs[1].values(Int32.self)
        var result = [T](repeating: 0, count: output.shape.reduce(1, *))
        try input.values(T.self).withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBufferPointer {
                try Quantized.resizeBilinear(x, inputShape: input.shape, output: $0,
                                             outputHeight: Int(size[0]), outputWidth: Int(size[1]),
                                             alignCorners: try fixture.bool("alignCorners"),
                                             halfPixelCenters: try fixture.bool("halfPixelCenters"))
            }
        }
        return Mismatch.between(result, try output.values(T.self))
    }
}

@Test("RESIZE_BILINEAR matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "resize_bilinear"))
func resizeBilinearMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(ResizeCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

private struct SoftmaxCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let input = fixture.inputs[0], output = fixture.outputs[0]
        let params = try Quantized.softmaxParams(elementType: T.self, beta: Float(try fixture.number("beta")),
                                                 input: input.quantization, output: output.quantization)
        var result = [T](repeating: 0, count: output.shape.reduce(1, *))
        try input.values(T.self).withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBufferPointer {
                try Quantized.softmax(x, depth: input.shape.last ?? 1, output: $0, params: params)
            }
        }
        return Mismatch.between(result, try output.values(T.self))
    }
}

@Test("SOFTMAX matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "softmax"))
func softmaxMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(SoftmaxCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

private struct PoolCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let input = fixture.inputs[0], output = fixture.outputs[0]
        let (params, outputShape) = try Quantized.poolParams(
            elementType: T.self, inputShape: input.shape, output: output.quantization,
            filterHeight: try fixture.int("filterHeight"), filterWidth: try fixture.int("filterWidth"),
            strideHeight: try fixture.int("strideH"), strideWidth: try fixture.int("strideW"),
            padding: try fixture.padding(), activation: try fixture.activation())
        #expect(outputShape == output.shape)
        var result = [T](repeating: 0, count: outputShape.reduce(1, *))
        let kind: Quantized.PoolKind = fixture.op == "MAX_POOL_2D" ? .maximum : .average
        try input.values(T.self).withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBufferPointer {
                try Quantized.pool2D(kind, input: x, inputShape: input.shape, output: $0, outputShape: outputShape, params: params)
            }
        }
        return Mismatch.between(result, try output.values(T.self))
    }
}

@Test("AVERAGE_POOL_2D and MAX_POOL_2D match LiteRT reference kernels exactly",
      arguments: OpFixture.names(for: "average_pool_2d") + OpFixture.names(for: "max_pool_2d"))
func poolingMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(PoolCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test func shapeFixturesArePresent() {
    // The parameterised tests above would pass vacuously without fixtures.
    #expect(OpFixture.names(for: "concatenation").count >= 6)
    #expect(OpFixture.names(for: "pad").count >= 2)
    #expect(OpFixture.names(for: "resize_bilinear").count >= 5)
    #expect(OpFixture.names(for: "softmax").count >= 3)
    #expect(OpFixture.names(for: "average_pool_2d").count >= 2)
    #expect(OpFixture.names(for: "max_pool_2d").count >= 2)
}

private struct MeanCheck: ElementCheck {
    let fixture: OpFixture
    func run<T: Quantized.Element>(_ type: T.Type) throws -> Mismatch {
        let input = fixture.inputs[0], output = fixture.outputs[0]
        let axes = try fixture.inputs[1].values(Int32.self).map(Int.init)
        var result = [T](repeating: 0, count: output.shape.reduce(1, *))
        try input.values(T.self).withUnsafeBufferPointer { x in
            try result.withUnsafeMutableBufferPointer {
                try Quantized.mean(x, inputShape: input.shape, axes: axes, keepDims: try fixture.bool("keepDims"),
                                   inputQuantization: input.quantization, output: $0,
                                   outputQuantization: output.quantization)
            }
        }
        return Mismatch.between(result, try output.values(T.self))
    }
}

@Test("MEAN matches LiteRT reference kernels exactly", arguments: OpFixture.names(for: "mean"))
func meanMatchesReference(name: String) throws {
    let fixture = try OpFixture.load(name)
    let mismatch = try fixture.inputs[0].check(MeanCheck(fixture: fixture))
    #expect(mismatch == .none, "\(name): \(mismatch)")
}

@Test func meanFixturesArePresent() {
    #expect(OpFixture.names(for: "mean").count >= 3)
}
