import Foundation
import Testing
import TFLiteModel
@testable import Inference

/// LiteRT's view after allocating and running each model (Fixtures/plan_facts.json).
private struct PlanFacts: Decodable {
    let shapes: [[Int]]
    let int32Values: [String: [Int]]
}

@Test(arguments: SharedModels.all)
func plannedShapesAndFoldedValuesMatchLiteRT(relativePath: String) throws {
    let model = try SharedModels.load(relativePath)
    let facts = try JSONDecoder().decode([String: PlanFacts].self,
                                         from: Data(contentsOf: Fixtures.url("plan_facts.json")))
    let expected = try #require(facts[relativePath])
    let plan = try ExecutionPlan(model: model, weightPrecision: .float32, keepFoldedIntermediates: true)
    // LiteRT may append scratch tensors after the model's own; compare the model's.
    for (i, tensor) in plan.tensors.enumerated() {
        #expect(tensor.shape == expected.shapes[i], "tensor \(i) '\(model.mainSubgraph.tensors[i].name)'")
    }
    var compared = 0
    for (key, values) in expected.int32Values {
        let i = try #require(Int(key))
        guard i < plan.tensors.count, case let .constant(pointer) = plan.tensors[i].storage,
              plan.tensors[i].type == .int32 else { continue }
        let ours = (0..<values.count).map { Int(pointer.load(fromByteOffset: 4 * $0, as: Int32.self)) }
        #expect(ours == values, "tensor \(i)")
        compared += 1
    }
    if relativePath.contains("fpnlite") {
        // The SHAPE -> STRIDED_SLICE -> PACK chains must have been folded and checked.
        #expect(compared >= 40)
    }
}

@Test(arguments: SharedModels.all)
func arenaNeverOverlapsLiveTensors(relativePath: String) throws {
    let model = try SharedModels.load(relativePath)
    let plan = try ExecutionPlan(model: model, weightPrecision: .float32)
    let graph = model.mainSubgraph
    // Recompute each arena tensor's live step range and check pairwise disjointness in memory.
    var first: [Int: Int] = [:], last: [Int: Int] = [:]
    for (step, opIndex) in plan.runtimeOperators.enumerated() {
        for i in graph.operators[opIndex].inputs + graph.operators[opIndex].outputs where i >= 0 {
            first[i] = min(first[i] ?? step, step)
            last[i] = max(last[i] ?? step, step)
        }
    }
    for i in graph.inputs + graph.outputs {
        first[i] = 0
        last[i] = max(plan.runtimeOperators.count - 1, 0)
    }
    var placed: [(range: Range<Int>, steps: ClosedRange<Int>, index: Int)] = []
    for (i, tensor) in plan.tensors.enumerated() {
        guard case let .arena(offset) = tensor.storage, let f = first[i], let l = last[i] else { continue }
        #expect(offset + tensor.byteCount <= plan.arenaBytes)
        placed.append((offset..<(offset + tensor.byteCount), f...l, i))
    }
    var collisions = 0
    for a in placed.indices {
        for b in placed.indices where b > a && placed[a].steps.overlaps(placed[b].steps) {
            if placed[a].range.overlaps(placed[b].range) { collisions += 1 }
        }
    }
    #expect(collisions == 0)
    #expect(!placed.isEmpty)
}

@Test func float16OnTheFlyKeepsHalfTheWeightBytes() throws {
    let model = try SharedModels.load(SharedModels.person("fp16"))
    let widened = try Interpreter(model: model)
    let onTheFly = try Interpreter(model: model, options: .init(weightPrecision: .float16OnTheFly))
    // 6.04 MB of float16 weights in the file: 12.08 MB widened, 6.04 MB kept as they are.
    #expect(onTheFly.constantBytes * 2 <= widened.constantBytes + 1024)
    #expect(onTheFly.constantBytes >= 6_000_000)
}

@Test func anUnsupportedOperatorIsNamedAtLoadAndTheModelStillInspects() throws {
    // FLOOR has no kernel here (Fixtures/make_postprocess_fixtures.py writes this one-op model).
    let url = Fixtures.url("ops/floor_unsupported.tflite")
    let model = try TFLiteModel(contentsOf: url)
    do {
        _ = try Interpreter(model: model)
        Issue.record("a FLOOR model loaded although no kernel exists for it")
    } catch {
        let message = "\(error)"
        #expect(message.contains("floor_unsupported.tflite"))
        #expect(message.contains("operator 0 (FLOOR)"))
    }
    #expect(ModelInspection(model: model).notRunnableBecause != nil)
}

@Test func inGraphDetectionPostProcessMatchesLiteRTReference() throws {
    // ssd_mobilenet_v1_coco_quant ends in TFLite_Detection_PostProcess (fast NMS, 10 detections) on
    // uint8 box/score inputs; LiteRT's reference kernels give the expected four outputs.
    let model = try SharedModels.load("models/ssd_mobilenet_v1_coco_quant/detect.tflite")
    let report = ModelInspection(model: model)
    #expect(report.operatorCounts["CONV_2D"] == 34)
    #expect(report.notRunnableBecause == nil)
    let interpreter = try Interpreter(model: model)
    for image in ["000000000139", "000000005001"] {
        let input = try Data(contentsOf: Fixtures.url("e2e_\(image).u8"))
        try interpreter.setInput(0, uint8: [UInt8](input))
        try interpreter.invoke()
        let expected = try JSONDecoder().decode(
            PostProcessFixture.self, from: Data(contentsOf: Fixtures.url("v1quant_\(image)_outputs.json")))
        for (i, want) in expected.outputs.enumerated() {
            let got = interpreter.output(i)
            #expect(got.info.shape == want.shape, "output \(i) shape")
            #expect(got.floats == want.values.map(Float.init), "image \(image) output \(i)")
        }
    }
}

private struct PostProcessFixture: Decodable {
    struct Output: Decodable { var shape: [Int]; var values: [Double] }
    var outputs: [Output]
}

@Test func inputsAreCheckedBeforeUse() throws {
    let interpreter = try Interpreter(model: try SharedModels.load(SharedModels.person("fp32")))
    #expect(interpreter.inputs.first?.shape == [1, 300, 300, 3])
    #expect(throws: Interpreter.Error.self) { try interpreter.setInput(0, floats: [1, 2, 3]) }
    #expect(throws: Interpreter.Error.self) { try interpreter.setInput(0, uint8: [UInt8](repeating: 0, count: 270_000)) }
    #expect(throws: Interpreter.Error.self) { try interpreter.setInput(1, floats: []) }
}
