import DataLocation
import Foundation
import Testing
@testable import Detector

/// LiteRT's raw person fp32 outputs through our description + decoding + NMS give the detections of
/// the numpy reference post-processing (reference-litert.md), same anchors in the same order.
@Suite struct PersonEndToEndTests {
    @Test(arguments: ["000000000139", "000000338304", "000000005001"])
    func matchesNumpyReference(stem: String) throws {
        let path = try DataDirectory.locate(callerFile: #filePath)
            .requireFile("models/ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_fp32.tflite")
        let graph = GraphSummary(outputs: [.init(name: "concat", shape: [1, 1917, 1, 4]), .init(name: "concat_1", shape: [1, 1917, 2])],
                                 hasDetectionPostProcess: false)
        let description = try DescriptionResolver.resolve(modelPath: path, graph: graph)
        guard case let .raw(raw) = description.outputs else { Issue.record("expected raw outputs"); return }
        let decoder = try RawOutputDecoder(raw: raw, labels: description.labels)
        let outputs = [
            OutputTensor(name: "concat", shape: [1, 1917, 1, 4], values: try FixtureFiles.float32s("person_\(stem)_boxes.f32")),
            OutputTensor(name: "concat_1", shape: [1, 1917, 2], values: try FixtureFiles.float32s("person_\(stem)_logits.f32")),
        ]
        let kept = try decoder.scoredBoxes(outputs: outputs)
        let images = try FixtureFiles.json("person_reference.json")["images"] as! [[String: Any]]
        let expected = images.first { $0["stem"] as! String == stem }!["detections"] as! [[String: Any]]
        #expect(!expected.isEmpty)
        #expect(kept.map(\.anchor) == expected.map { $0["anchor"] as! Int })
        for (ours, theirs) in zip(kept, expected) {
            #expect(abs(ours.score - float(theirs["score"]!)) < 1e-6)
            let box = (theirs["box_yxyx"] as! [Any]).map(float)
            let mine = [ours.box.ymin, ours.box.xmin, ours.box.ymax, ours.box.xmax]
            #expect(zip(mine, box).allSatisfy { abs($0 - $1) < 1e-5 }, "anchor \(ours.anchor): \(mine) vs \(box)")
        }
        let detections = try decoder.detections(outputs: outputs, imageWidth: 640, imageHeight: 480)
        #expect(detections.count == expected.count && detections.allSatisfy { $0.categoryID == 1 && $0.label == "person" })
    }
}
