import DataLocation
import Foundation
import Testing
@testable import Detector

/// `ModelDescription.jsonData()` writes what `load` reads back: the same description (only `source`,
/// the file's path, differs), for the three shipped conventions and for every field a hand-written
/// description can set.
@Suite struct DescriptionWriterTests {
    static func temporaryFile(_ name: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("description-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    /// Writes `description`, loads it back and returns the loaded one with `source` put back.
    static func roundTrip(_ description: ModelDescription) throws -> ModelDescription {
        let path = try temporaryFile("model.ssd.json")
        try description.jsonData(describedBy: "test").write(to: URL(fileURLWithPath: path))
        var loaded = try ModelDescription.load(path: path)
        #expect(loaded.source == path)
        loaded.source = description.source
        return loaded
    }

    @Test func v1PostProcessedConventionRoundTrips() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let model = try dir.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")
        let original = try DescriptionResolver.resolve(modelPath: model, graph: GraphSummary(outputs: [], hasDetectionPostProcess: true))
        // 80 of labelmap.txt's 90 ids are used; post-process class c is COCO line c + 1.
        #expect(original.labels.entries.count == 80)
        #expect(try Self.roundTrip(original) == original)
    }

    @Test func stRawConventionWithAnchorsFoundByValueRoundTrips() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let model = try dir.requireFile("models/ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite")
        // The ST file's outputs (names and shapes as LiteRT reports them): none is named like "anchors".
        let graph = GraphSummary(outputs: [.init(name: "StatefulPartitionedCall:2", shape: [1, 6820, 81]),
                                           .init(name: "StatefulPartitionedCall:1", shape: [1, 6820, 4]),
                                           .init(name: "StatefulPartitionedCall:0", shape: [1, 6820, 4])],
                                 hasDetectionPostProcess: false)
        let original = try DescriptionResolver.resolve(modelPath: model, graph: graph)
        guard case let .raw(raw) = original.outputs else { Issue.record("ST is read from raw outputs"); return }
        #expect(raw.anchors == .output(name: nil, index: nil))
        #expect(try Self.roundTrip(original) == original)
    }

    @Test func personModelJSONRoundTrips() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let original = try ModelDescription.load(path: dir.requireFile("models/ssdlite_mobilenet_v2_person/model.json"))
        guard case let .raw(raw) = original.outputs, case let .file(anchors) = raw.anchors else {
            Issue.record("the person description has an anchor file"); return
        }
        #expect(anchors.hasPrefix("/"))  // written absolute, so the copy works from any folder
        #expect(try Self.roundTrip(original) == original)
    }

    @Test func everyOtherFieldRoundTrips() throws {
        var generator = SSDAnchorGenerator()
        generator.minScale = 0.1
        generator.featureMapSizes = [10, 5, 3, 2, 1, 1]
        let labels = LabelMap(entries: [0: .init(categoryID: 3, name: "car"), 4: .init(categoryID: 1, name: "person")])
        let variants: [ModelDescription.RawOutputs] = [
            .init(boxCoder: .centerSize(yScale: 8, xScale: 9, hScale: 4, wScale: 3), anchors: .generator(generator),
                  scores: .softmax(logitScale: 0.5), backgroundColumn: nil,
                  nms: NonMaxSuppression(iouThreshold: 0.3, scoreThreshold: 0.2, maxDetections: 7, candidates: .everyClass)),
            .init(boxCoder: .cornerOffset, anchors: .output(name: nil, index: 2), scores: .identity, backgroundColumn: 3,
                  nms: NonMaxSuppression(iouThreshold: 1)),
            .init(boxCoder: .cornerOffset, anchors: .output(name: "anchors_concat", index: nil),
                  scores: .sigmoid(logitScale: 1), backgroundColumn: 0, nms: NonMaxSuppression(iouThreshold: 0.45)),
        ]
        for raw in variants {
            // 1/0.0078431377 is not a short decimal: the float must survive the text form exactly.
            let original = ModelDescription(outputs: .raw(raw), labels: labels,
                                            preprocessing: InputPreprocessing(mean: 127, std: 1 / 0.0078431377), source: "hand-made")
            #expect(try Self.roundTrip(original) == original)
        }
    }

    @Test func repeatedLabelColumnIsAnErrorNamingTheFile() throws {
        let path = try Self.temporaryFile("bad.ssd.json")
        let text = #"{"outputs": "postprocessed", "label_entries": [{"column": 0, "category_id": 1, "name": "person"}, "#
            + #"{"column": 0, "category_id": 2, "name": "bicycle"}]}"#
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: DetectorError.self) { try ModelDescription.load(path: path) }
        #expect(error.description.contains(path))
        #expect(error.description.contains("column 0 twice"))
    }
}
