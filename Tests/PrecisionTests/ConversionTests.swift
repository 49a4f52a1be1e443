import DataLocation
import Foundation
import Inference
import Precision
import Testing
import TFLiteModel

/// Small hand-made models converted and run through our interpreter; expected values worked out by
/// hand from the IEEE half format and the affine quantization formula, not from our output.
@Suite struct ConversionTests {
    static func le(_ floats: [Float]) -> [UInt8] { floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }
    static func le(_ ints: [Int32]) -> [UInt8] { ints.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }
    static let conv = TFLiteModel.BuiltinOptions.conv2D(.make(padding: .valid))

    /// [1,1,1,2] input -> 1x1 CONV_2D (2 output channels) -> [1,1,1,2].
    static func floatConvModel() throws -> TFLiteModel {
        let draft = ModelDraft(description: "test", tensors: [
            .init(name: "input", shape: [1, 1, 1, 2], type: .float32),
            .init(name: "weights", shape: [2, 1, 1, 2], type: .float32, data: le([0.1, 0.2, -0.3, 1.0])),
            .init(name: "bias", shape: [2], type: .float32, data: le([0.5, -0.25])),
            .init(name: "result", shape: [1, 1, 1, 2], type: .float32),
        ], operators: [.init(builtinCode: 3, inputs: [0, 1, 2], outputs: [3], options: conv)], inputs: [0], outputs: [3])
        return try TFLiteModel(bytes: try draft.serialized(), fileName: "float conv")
    }

    static func run(_ model: TFLiteModel, _ input: [Float]) throws -> [Float] {
        let interpreter = try Interpreter(model: model)
        try interpreter.setInput(0, floats: input)
        try interpreter.invoke()
        return try #require(interpreter.output(0).floats)
    }

    @Test func handWrittenFloatModelRuns() throws {
        // 0.1·1 + 0.2·2 + 0.5 = 1.0; -0.3·1 + 1.0·2 - 0.25 = 1.45
        let out = try Self.run(try Self.floatConvModel(), [1, 2])
        #expect(abs(out[0] - 1.0) < 1e-6 && abs(out[1] - 1.45) < 1e-6)
    }

    @Test func float16WeightsSitBehindDequantize() throws {
        let converted = try TFLiteModel(bytes: try Float16Conversion.convert(try Self.floatConvModel()).serialized(), fileName: "fp16")
        let graph = converted.mainSubgraph
        #expect(graph.operators.map { converted.code(of: $0).name } == ["DEQUANTIZE", "DEQUANTIZE", "CONV_2D"])
        let halfWeights = try #require(graph.tensors.first { $0.type == .float16 && $0.shape == [2, 1, 1, 2] })
        // 0.1 in IEEE half: exponent -4 (biased 11), mantissa round(0.6·1024) = 614 -> 0x2E66.
        let bytes = Array(try #require(converted.constantData(of: halfWeights)))
        #expect(bytes[0] == 0x66 && bytes[1] == 0x2E)
        // Half weights 0.0999755859375, 0.199951171875, -0.300048828125, 1.0.
        let out = try Self.run(converted, [1, 2])
        #expect(abs(out[0] - 0.9998779296875) < 1e-6)
        #expect(abs(out[1] - 1.449951171875) < 1e-6)
        #expect(Provenance.text(in: converted)?.contains("\"precision\":\"fp16\"") == true)
    }

    /// uint8 input (scale 0.5, zp 10) -> uint8 CONV_2D -> DEQUANTIZE -> float "result".
    static func uint8ConvModel() throws -> TFLiteModel {
        let draft = ModelDraft(description: "test", tensors: [
            .init(name: "pixels", shape: [1, 1, 1, 2], type: .uint8, quantization: .init(scales: [0.5], zeroPoints: [10])),
            .init(name: "weights", shape: [2, 1, 1, 2], type: .uint8, data: [132, 120, 128, 136],
                  quantization: .init(scales: [0.25], zeroPoints: [128])),
            .init(name: "bias", shape: [2], type: .int32, data: le([Int32(8), -16]), quantization: .init(scales: [0.125], zeroPoints: [0])),
            .init(name: "conv", shape: [1, 1, 1, 2], type: .uint8, quantization: .init(scales: [0.1], zeroPoints: [0])),
            .init(name: "result", shape: [1, 1, 1, 2], type: .float32),
        ], operators: [
            .init(builtinCode: 3, inputs: [0, 1, 2], outputs: [3], options: conv),
            .init(builtinCode: 6, version: 2, inputs: [3], outputs: [4]),
        ], inputs: [0], outputs: [4])
        return try TFLiteModel(bytes: try draft.serialized(), fileName: "uint8 conv")
    }

    @Test func dequantizedModelComputesTheSameInFloat() throws {
        let converted = try TFLiteModel(bytes: try Dequantization.convert(try Self.uint8ConvModel()).serialized(), fileName: "fp32")
        let graph = converted.mainSubgraph
        #expect(graph.operators.map { converted.code(of: $0).name } == ["CONV_2D"])
        #expect(graph.tensors[graph.outputs[0]].name == "result")
        #expect(graph.tensors.allSatisfy { $0.type == .float32 && $0.quantization == nil })
        // weights 0.25·(q - 128) = 1, -2, 0, 2; bias 0.125·q = 1, -2.
        let weights = try #require(graph.tensors.first { $0.name == "weights" })
        let values = Array(try #require(converted.constantData(of: weights)))
        let expected: [UInt8] = Self.le([Float(1), -2, 0, 2])
        #expect(values == expected)
        // The old input quantization becomes the normalisation (p - 10) / 2.
        let provenance = try #require(Provenance.text(in: converted))
        #expect(provenance.contains("\"input_normalisation\":{\"mean\":10,\"std\":2}"))
        // Pixels 14, 12 -> inputs 2, 1 -> 1·2 - 2·1 + 1 = 1 and 0·2 + 2·1 - 2 = 0.
        let out = try Self.run(converted, [2, 1])
        #expect(out == [1, 0])
        let original = try Interpreter(model: try Self.uint8ConvModel())
        try original.setInput(0, uint8: [14, 12])
        try original.invoke()
        #expect(original.output(0).floats == [1, 0])
    }

    /// The uint8 model above with bias -1, 6 and the conv output range [0, 6] (scale 6/255, zp 0) but
    /// no fused activation: the range alone clamps, as in TOCO's v1 where ReLU6 was folded into it.
    static func impliedRelu6Model() throws -> TFLiteModel {
        let draft = ModelDraft(description: "test", tensors: [
            .init(name: "pixels", shape: [1, 1, 1, 2], type: .uint8, quantization: .init(scales: [0.5], zeroPoints: [10])),
            .init(name: "weights", shape: [2, 1, 1, 2], type: .uint8, data: [132, 120, 128, 136],
                  quantization: .init(scales: [0.25], zeroPoints: [128])),
            .init(name: "bias", shape: [2], type: .int32, data: le([Int32(-8), 48]), quantization: .init(scales: [0.125], zeroPoints: [0])),
            .init(name: "conv", shape: [1, 1, 1, 2], type: .uint8, quantization: .init(scales: [Float(6) / 255], zeroPoints: [0])),
            .init(name: "result", shape: [1, 1, 1, 2], type: .float32),
        ], operators: [
            .init(builtinCode: 3, inputs: [0, 1, 2], outputs: [3], options: conv),
            .init(builtinCode: 6, version: 2, inputs: [3], outputs: [4]),
        ], inputs: [0], outputs: [4])
        return try TFLiteModel(bytes: try draft.serialized(), fileName: "implied relu6")
    }

    @Test func clampImpliedByTheOutputRangeBecomesAFusedRelu6() throws {
        let converted = try TFLiteModel(bytes: try Dequantization.convert(try Self.impliedRelu6Model()).serialized(), fileName: "fp32")
        let op = try #require(converted.mainSubgraph.operators.first)
        guard case let .conv2D(options) = op.builtinOptions else { Issue.record("not a CONV_2D"); return }
        #expect(options.activation == .relu6)
        // Inputs 2, 1: 1·2 - 2·1 - 1 = -1 -> 0 and 0·2 + 2·1 + 6 = 8 -> 6, as the uint8 range clamped them.
        #expect(try Self.run(converted, [2, 1]) == [0, 6])
        let original = try Interpreter(model: try Self.impliedRelu6Model())
        try original.setInput(0, uint8: [14, 12])
        try original.invoke()
        let clamped = try #require(original.output(0).floats)
        #expect(clamped[0] == 0 && abs(clamped[1] - 6) < 1e-5)
        #expect(Provenance.text(in: converted)?.contains("1 clamps implied") == true)
    }

    @Test func perChannelSymmetricWeights() {
        // Channel 0: max 2 -> scale 2/127; 1 / (2/127) = 63.5 -> 64, -2 -> -127.
        // Channel 1: max 0.5 -> scale 0.5/127; 0.5 -> 127, 0.25 -> 63.5 -> 64.
        let (q, scales) = Int8Quantization.symmetricPerChannel([1, -2, 0.5, 0.25], shape: [2, 1, 1, 2], axis: 0)
        #expect(q == [64, -127, 127, 64])
        let expectedScales: [Float] = [2 / 127, 0.5 / 127]
        #expect(scales == expectedScales)
        // Depthwise weights [1,1,1,2]: channels along the last axis.
        let (qd, scalesD) = Int8Quantization.symmetricPerChannel([-4, 1], shape: [1, 1, 1, 2], axis: 3)
        let expectedDepthwiseScales: [Float] = [4 / 127, 1 / 127]
        #expect(qd == [-127, 127] && scalesD == expectedDepthwiseScales)
    }

    @Test func asymmetricActivationParameters() {
        // [-1, 3]: scale 4/255; zero point round(-128 + 1/(4/255)) = round(-64.25) = -64.
        let p = Int8Quantization.parameters(low: -1, high: 3)
        #expect(p.scale == Float(4) / 255 && p.zeroPoint == -64)
        // A range that excludes 0 is widened to include it: [2, 6] -> [0, 6], zero point -128.
        let relu = Int8Quantization.parameters(low: 2, high: 6)
        #expect(relu.scale == Float(6) / 255 && relu.zeroPoint == -128)
    }

    /// The real person model quantized with two calibration images: the converter's conventions hold.
    @Test func personModelInt8Conventions() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let path = try dir.requireFile("models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite")
        let folder = dir.url.appendingPathComponent("data/coco-train2017-calib/images").path
        let images = try CalibrationImages.list(folder: folder, count: 2)
        let source = try TFLiteModel(contentsOf: URL(fileURLWithPath: path))
        let draft = try Int8Quantization.convert(source, modelPath: path, calibrationImages: images,
                                                 calibrationFolder: folder, method: .minmax)
        let model = try TFLiteModel(bytes: try draft.serialized(), fileName: "person int8")
        let graph = model.mainSubgraph
        let input = graph.tensors[graph.inputs[0]]
        #expect(input.type == .uint8)
        // Inputs are x/127.5 - 1 in [-1, 1]: scale 2/255, uint8 zero point 127 (int8 -1), as the converter's file.
        let q = try #require(input.quantization)
        #expect(abs(q.scales[0] - 2 / 255) < 1e-6 && q.zeroPoints == [127])
        #expect(model.code(of: graph.operators.first!).name == "QUANTIZE")
        let outputTypes: [TFLiteModel.TensorType] = graph.outputs.map { graph.tensors[$0].type }
        #expect(outputTypes == [.float32, .float32])
        for op in graph.operators where model.code(of: op).name == "CONV_2D" {
            let weights = graph.tensors[op.inputs[1]], bias = graph.tensors[op.inputs[2]]
            #expect(weights.type == .int8 && weights.quantization?.quantizedDimension == 0)
            #expect(weights.quantization?.scales.count == weights.shape[0])
            #expect(bias.type == .int32)
            let inputScale = graph.tensors[op.inputs[0]].quantization!.scales[0]
            for (b, w) in zip(bias.quantization!.scales, weights.quantization!.scales) { #expect(abs(b - inputScale * w) <= 1e-6 * b) }
        }
        for op in graph.operators where model.code(of: op).name == "CONCATENATION" {
            let out = graph.tensors[op.outputs[0]].quantization
            for i in op.inputs { #expect(graph.tensors[i].quantization == out) }
        }
        // It runs in our engine.
        let interpreter = try Interpreter(model: model)
        try interpreter.setInput(0, uint8: [UInt8](repeating: 128, count: 300 * 300 * 3))
        try interpreter.invoke()
        let scores = try #require(interpreter.output(0).floats)
        #expect(scores.allSatisfy { $0.isFinite })
    }
}
