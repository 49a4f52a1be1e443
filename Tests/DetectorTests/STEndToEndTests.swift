import DataLocation
import Foundation
import Testing
@testable import Detector

/// LiteRT's raw outputs of the ST FPNLite model through the resolver's convention for it (anchors
/// output found by its values, corner-offset boxes, best class per anchor, NMS 0.45, COCO-80 labels)
/// give the detections of the numpy reference post-processing.
@Suite struct STEndToEndTests {
    @Test func matchesNumpyReference() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let path = try dir.requireFile("models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite")
        let stem = "000000000139"
        let n = 6820, columns = 81
        var scores = [Float](repeating: 0, count: n * columns)
        let sparse = try FixtureFiles.bytes("st_\(stem)_scores_sparse.u16")
        for t in stride(from: 0, to: sparse.count, by: 6) {
            func u16(_ o: Int) -> Int { Int(sparse[t + o]) | Int(sparse[t + o + 1]) << 8 }
            scores[u16(0) * columns + u16(2)] = Float(u16(4)) / 256
        }
        // Graph order of the outputs: scores, box deltas, anchors, with uninformative names.
        let outputs = [
            OutputTensor(name: "StatefulPartitionedCall:2", shape: [1, n, columns], values: scores),
            OutputTensor(name: "StatefulPartitionedCall:1", shape: [1, n, 4], values: try FixtureFiles.float32s("st_\(stem)_deltas.f32")),
            OutputTensor(name: "StatefulPartitionedCall:0", shape: [1, n, 4], values: try FixtureFiles.float32s("st_\(stem)_anchors.f32")),
        ]
        let graph = GraphSummary(outputs: outputs.map { .init(name: $0.name, shape: $0.shape) }, hasDetectionPostProcess: false)
        let description = try DescriptionResolver.resolve(modelPath: path, graph: graph)
        guard case let .raw(raw) = description.outputs else { Issue.record("expected raw outputs"); return }
        let decoder = try RawOutputDecoder(raw: raw, labels: description.labels)
        let kept = try decoder.scoredBoxes(outputs: outputs)

        let expected = try FixtureFiles.json("st_reference.json")["detections"] as! [[String: Any]]
        #expect(expected.count > 10)
        #expect(kept.map(\.anchor) == expected.map { $0["anchor"] as! Int })
        #expect(kept.map(\.classIndex) == expected.map { $0["class"] as! Int })
        for (ours, theirs) in zip(kept, expected) {
            #expect(ours.score == float(theirs["score"]!))
            let box = (theirs["box_yxyx"] as! [Any]).map(float)
            let mine = [ours.box.ymin, ours.box.xmin, ours.box.ymax, ours.box.xmax]
            #expect(zip(mine, box).allSatisfy { abs($0 - $1) < 1e-5 }, "anchor \(ours.anchor): \(mine) vs \(box)")
        }
        // Column i is the i-th of COCO's 80 ids: the top detection's class maps through the label file.
        let top = try decoder.detections(outputs: outputs, imageWidth: 640, imageHeight: 426)[0]
        #expect(top.categoryID == COCOCategories.ids[kept[0].classIndex - 1])
    }
}
