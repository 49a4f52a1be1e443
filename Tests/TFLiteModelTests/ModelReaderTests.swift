import Foundation
import Testing
import DataLocation
@testable import TFLiteModel

/// What LiteRT says about each shared model (Fixtures/make_model_facts.py writes it).
private struct ModelFacts: Decodable {
    struct Tensor: Decodable {
        let index: Int
        let name: String
        let shape: [Int]
        let dtype: String
        let scales: Int
        let firstScale: Double?
        let lastZeroPoint: Int?
        let quantizedDimension: Int
    }
    struct Operator: Decodable {
        let name: String
        let inputs: [Int]
        let outputs: [Int]
    }
    let tensors: [Tensor]
    let operators: [Operator]
    let inputs: [Int]
    let outputs: [Int]
}

private func loadFacts() throws -> [String: ModelFacts] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/model_facts.json")
    return try JSONDecoder().decode([String: ModelFacts].self, from: Data(contentsOf: url))
}

private let sharedModels = [
    "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite",
    "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp16.tflite",
    "models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite",
    "models/ssd_mobilenet_v1_coco_quant/detect.tflite",
    "models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite",
]

private func numpyName(_ type: TFLiteModel.TensorType) -> String {
    switch type {
    case .float32: return "float32"
    case .float16: return "float16"
    case .int32: return "int32"
    case .int64: return "int64"
    case .uint8: return "uint8"
    case .int8: return "int8"
    case .int16: return "int16"
    case .bool: return "bool"
    default: return type.name
    }
}

@Test(arguments: sharedModels)
func readerAgreesWithLiteRT(relativePath: String) throws {
    let dir = try DataDirectory.locate(callerFile: #filePath)
    let model = try TFLiteModel(contentsOf: URL(fileURLWithPath: try dir.requireFile(relativePath)))
    let facts = try #require(try loadFacts()[relativePath])
    let graph = model.mainSubgraph
    #expect(graph.inputs == facts.inputs)
    #expect(graph.outputs == facts.outputs)
    #expect(graph.tensors.count == facts.tensors.count)
    for (tensor, expected) in zip(graph.tensors, facts.tensors) {
        #expect(tensor.name == expected.name)
        #expect(tensor.shape == expected.shape, "tensor \(tensor.index) \(tensor.name)")
        #expect(numpyName(tensor.type) == expected.dtype, "tensor \(tensor.index) \(tensor.name)")
        let q = tensor.quantization
        #expect((q?.scales.count ?? 0) == expected.scales, "tensor \(tensor.index) \(tensor.name)")
        if let firstScale = expected.firstScale {
            #expect(Double(q?.scales.first ?? -1) == Double(Float(firstScale)))
            #expect(Int(q?.zeroPoints.last ?? -999) == expected.lastZeroPoint)
            #expect((q?.quantizedDimension ?? -1) == expected.quantizedDimension)
        }
    }
    #expect(graph.operators.count == facts.operators.count)
    for (op, expected) in zip(graph.operators, facts.operators) {
        #expect(model.code(of: op).name == expected.name, "operator \(op.index)")
        #expect(op.inputs == expected.inputs, "operator \(op.index)")
        #expect(op.outputs == expected.outputs, "operator \(op.index)")
    }
}

@Test func detectionPostProcessCustomOptionsMatchFlatbuffersPackage() throws {
    let dir = try DataDirectory.locate(callerFile: #filePath)
    let model = try TFLiteModel(contentsOf: URL(fileURLWithPath:
        try dir.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")))
    let op = try #require(model.mainSubgraph.operators.last)
    #expect(model.code(of: op).name == "TFLite_Detection_PostProcess")
    let options = try FlexBufferMap(model.bytes[op.customOptions])
    // Values as the Python flatbuffers package's flexbuffers.Loads decodes them (model_facts.json).
    #expect(options["max_detections"]?.asInt == 10)
    #expect(options["max_classes_per_detection"]?.asInt == 1)
    #expect(options["num_classes"]?.asInt == 90)
    #expect(options["y_scale"]?.asDouble == 10.0)
    #expect(options["x_scale"]?.asDouble == 10.0)
    #expect(options["h_scale"]?.asDouble == 5.0)
    #expect(options["w_scale"]?.asDouble == 5.0)
    #expect(options["nms_iou_threshold"]?.asDouble == 0.6000000238418579)
    #expect(options["nms_score_threshold"]?.asDouble == 9.99999993922529e-09)
    #expect(options["_output_quantized"] == .bool(true))
    #expect(options["use_regular_nms"] == nil)
}

@Test func builtinOptionsOfFirstConvolution() throws {
    // Hand-checked against the first CONV_2D of SSDLite MobileNetV2: 3x3, stride 2, SAME, RELU6.
    let dir = try DataDirectory.locate(callerFile: #filePath)
    let model = try TFLiteModel(contentsOf: URL(fileURLWithPath: try dir.requireFile(sharedModels[0])))
    let conv = try #require(model.mainSubgraph.operators.first { model.code(of: $0).name == "CONV_2D" })
    #expect(conv.builtinOptions == .conv2D(.init(padding: .same, strideWidth: 2, strideHeight: 2, activation: .relu6,
                                                  dilationWidth: 1, dilationHeight: 1)))
    let filter = model.mainSubgraph.tensors[conv.inputs[1]]
    #expect(filter.shape == [32, 3, 3, 3])
    let float32FilterBytes: Int = 32 * 3 * 3 * 3 * 4
    #expect(model.constantData(of: filter)?.count == float32FilterBytes)
}

@Test func tooShortFileIsRejectedWithItsName() {
    #expect(throws: TFLiteModel.LoadError.self) { try TFLiteModel(bytes: [1, 2, 3], fileName: "tiny.tflite") }
    do {
        _ = try TFLiteModel(bytes: [], fileName: "empty.tflite")
        Issue.record("empty file loaded")
    } catch {
        #expect("\(error)".contains("empty.tflite"))
    }
}

@Test func missingFileNamesTheFile() {
    do {
        _ = try TFLiteModel(contentsOf: URL(fileURLWithPath: "/nonexistent/model.tflite"))
        Issue.record("missing file loaded")
    } catch {
        #expect("\(error)".contains("/nonexistent/model.tflite"))
    }
}

/// Corrupted copies of a real model must either load or throw; a trap would kill the test process.
@Test func truncatedAndBitFlippedModelsThrowOrLoad() throws {
    let dir = try DataDirectory.locate(callerFile: #filePath)
    let path = try dir.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")
    let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var generator = SplitMix64(seed: 20261129)
    var thrown = 0, loaded = 0

    // Truncations: dense at both ends (where flatbuffer structure lives), sparse in between.
    var cuts = Array(0..<64) + Array(stride(from: 64, to: original.count, by: original.count / 97))
    cuts += (1...64).map { original.count - $0 }
    for cut in cuts {
        do {
            _ = try TFLiteModel(bytes: Array(original[0..<cut]), fileName: "cut")
            // This file's last 8 bytes are an unreferenced vtable, so only those cuts may load.
            #expect(cut >= original.count - 8, "truncation to \(cut) bytes loaded")
            loaded += 1
        } catch { thrown += 1 }
    }

    // Single and multi-byte flips; structure (vtables, offsets) is outside the weights, near the file's ends.
    let structureRegions = [0..<min(65536, original.count), max(0, original.count - 65536)..<original.count]
    for trial in 0..<600 {
        var bytes = original
        let region = structureRegions[trial % 2]
        for _ in 0..<(1 + Int(generator.next() % 3)) {
            let position = region.lowerBound + Int(generator.next() % UInt64(region.count))
            bytes[position] ^= UInt8(truncatingIfNeeded: 1 + generator.next() % 255)
        }
        do {
            let model = try TFLiteModel(bytes: bytes, fileName: "flipped")
            // A model that loads must be safe to walk.
            for op in model.mainSubgraph.operators {
                _ = model.code(of: op).name
                for i in op.inputs where i >= 0 { _ = model.constantData(of: model.mainSubgraph.tensors[i]) }
            }
            loaded += 1
        } catch { thrown += 1 }
    }
    #expect(thrown > 0 && loaded > 0)
}

/// A tiny deterministic generator so failures reproduce.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Corrupted custom options must throw or decode, never trap (they come straight from the file).
@Test func corruptedFlexBuffersThrowOrDecode() throws {
    let dir = try DataDirectory.locate(callerFile: #filePath)
    let model = try TFLiteModel(contentsOf: URL(fileURLWithPath:
        try dir.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")))
    let original = Array(model.bytes[try #require(model.mainSubgraph.operators.last).customOptions])
    var generator = SplitMix64(seed: 7)
    var decoded = 0, thrown = 0
    for cut in 0..<original.count {
        if (try? FlexBufferMap(original[0..<cut])) != nil { decoded += 1 } else { thrown += 1 }
    }
    for _ in 0..<2000 {
        var bytes = original
        let position = Int(generator.next() % UInt64(bytes.count))
        bytes[position] ^= UInt8(truncatingIfNeeded: 1 + generator.next() % 255)
        if (try? FlexBufferMap(bytes)) != nil { decoded += 1 } else { thrown += 1 }
    }
    #expect(thrown > 0 && decoded > 0)
}
