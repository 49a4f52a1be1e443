import DataLocation
import Foundation
import Imaging
import Testing
@testable import Detector

@Suite struct LabelMapTests {
    @Test func v1LabelmapMapsPostProcessClassToCOCOId() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let map = try LabelMap.load(path: dir.requireFile("models/ssd_mobilenet_v1_coco_quant/labelmap.txt"),
                                    layout: .cocoIDPerLine, columnOffset: 1)
        // Post-process class 0 = line 1 = person (COCO 1); class 11 = line 12 = "???" (unused id 12).
        #expect(map.entry(forColumn: 0) == .init(categoryID: 1, name: "person"))
        #expect(map.entry(forColumn: 11) == nil)
        #expect(map.entry(forColumn: 12) == .init(categoryID: 13, name: "stop sign"))
        #expect(map.entries.count == 80)
    }

    @Test func stLabelsMapColumnToIthCOCOId() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let map = try LabelMap.load(path: dir.requireFile("models/ssd_mobilenet_v2_fpnlite_256_coco/labels_coco_dataset_80.txt"),
                                    layout: .backgroundThenCOCO80)
        #expect(map.entry(forColumn: 0) == nil)  // background
        #expect(map.entry(forColumn: 1) == .init(categoryID: 1, name: "person"))
        #expect(map.entry(forColumn: 12) == .init(categoryID: 13, name: "stop sign"))  // 12th of the 80
        #expect(map.entry(forColumn: 80) == .init(categoryID: 90, name: "toothbrush"))
    }

    @Test func namesMapThroughCOCONames() throws {
        let map = try LabelMap.fromNames(["background", "person"], backgroundColumn: 0, source: "test")
        #expect(map.entries == [1: .init(categoryID: 1, name: "person")])
        #expect(throws: DetectorError.self) { try LabelMap.fromNames(["background", "unicorn"], backgroundColumn: 0, source: "test") }
    }

    @Test func wrongLineCountIsAnErrorNamingTheFile() throws {
        let path = FixtureFiles.path("person_reference.json")
        let error = try #require(throws: DetectorError.self) { try LabelMap.load(path: path, layout: .backgroundThenCOCO80) }
        #expect(error.description.contains(path))
    }
}

@Suite struct DescriptionResolverTests {
    static func model(_ relative: String) throws -> String {
        try DataDirectory.locate(callerFile: #filePath).requireFile("models/" + relative)
    }

    @Test func personModelUsesItsModelJSON() throws {
        let path = try Self.model("ssdlite_mobilenet_v2_person/ssdlite_mobilenet_v2_person_int8.tflite")
        let graph = GraphSummary(outputs: [.init(name: "concat", shape: [1, 1917, 1, 4]), .init(name: "concat_1", shape: [1, 1917, 2])],
                                 hasDetectionPostProcess: false)
        let d = try DescriptionResolver.resolve(modelPath: path, graph: graph)
        guard case let .raw(raw) = d.outputs else { Issue.record("expected raw outputs"); return }
        #expect(raw.boxCoder == .centerSize(yScale: 10, xScale: 10, hScale: 5, wScale: 5))
        #expect(raw.scores == .sigmoid(logitScale: 1))
        #expect(raw.backgroundColumn == 0)
        #expect(raw.nms.iouThreshold == 0.6)
        guard case let .file(anchorPath) = raw.anchors else { Issue.record("expected an anchors file"); return }
        #expect(anchorPath.hasSuffix("anchors_1917x4_yxyx_f32.bin"))
        #expect(d.labels.entries == [1: .init(categoryID: 1, name: "person")])
    }

    @Test func v1QuantUsesPostProcessAndLabelmap() throws {
        let path = try Self.model("ssd_mobilenet_v1_coco_quant/detect.tflite")
        let d = try DescriptionResolver.resolve(modelPath: path, graph: GraphSummary(outputs: [], hasDetectionPostProcess: true))
        #expect(d.outputs == .postProcessed)
        #expect(d.labels.entry(forColumn: 0)?.categoryID == 1)
    }

    @Test func stModelUsesAnchorsOutputAndCOCO80Labels() throws {
        let path = try Self.model("ssd_mobilenet_v2_fpnlite_256_coco/ssd_mobilenet_v2_fpnlite_10_256_int8.tflite")
        let graph = GraphSummary(outputs: [.init(name: "StatefulPartitionedCall:2", shape: [1, 6820, 81]),
                                           .init(name: "StatefulPartitionedCall:1", shape: [1, 6820, 4]),
                                           .init(name: "StatefulPartitionedCall:0", shape: [1, 6820, 4])],
                                 hasDetectionPostProcess: false)
        let d = try DescriptionResolver.resolve(modelPath: path, graph: graph)
        guard case let .raw(raw) = d.outputs else { Issue.record("expected raw outputs"); return }
        #expect(raw.boxCoder == .cornerOffset && raw.scores == .identity && raw.nms.iouThreshold == 0.45)
        #expect(raw.anchors == .output(name: nil, index: nil))
        #expect(d.labels.entry(forColumn: 80)?.categoryID == 90)
    }

    @Test func unknownModelIsAClearError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ssd-resolver-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mystery.tflite").path
        let error = try #require(throws: DetectorError.self) {
            try DescriptionResolver.resolve(modelPath: path, graph: GraphSummary(outputs: [], hasDetectionPostProcess: false))
        }
        #expect(error.description.contains(path) && error.description.contains("mystery.ssd.json"))
    }

    @Test func descriptionFileWithGeneratorAndErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ssd-desc-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("m.ssd.json").path
        try #"{"anchor_generator": {"min_scale": 0.2}, "labels": ["background", "dog"], "nms_iou_threshold": 0.5, "scores": "softmax"}"#
            .write(toFile: good, atomically: true, encoding: .utf8)
        let d = try DescriptionResolver.resolve(modelPath: dir.appendingPathComponent("m.tflite").path,
                                                graph: GraphSummary(outputs: [], hasDetectionPostProcess: false))
        guard case let .raw(raw) = d.outputs, case let .generator(g) = raw.anchors else { Issue.record("expected generator"); return }
        #expect(g.generate().count == 1917 && raw.nms.iouThreshold == 0.5 && raw.scores == .softmax(logitScale: 1))
        #expect(d.labels.entry(forColumn: 1)?.categoryID == 18)

        let bad = dir.appendingPathComponent("bad.json").path
        try #"{"labels": ["background", "dog"], "box_coder": "diagonal", "anchors": "a.bin"}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let error = try #require(throws: DetectorError.self) { try ModelDescription.load(path: bad) }
        #expect(error.description.contains(bad) && error.description.contains("diagonal"))
    }
}

@Suite struct InputPreprocessingTests {
    static let image = RGBImage(width: 2, height: 1, pixels: [0, 1, 127, 128, 254, 255])

    @Test func floatIsPixelOver127_5MinusOne() {
        let spec = ImageInputSpec(elementType: .float32, width: 2, height: 1)
        guard case let .float32(v) = InputPreprocessing().tensor(from: Self.image, spec: spec) else { Issue.record("type"); return }
        // As the reference computes it: numpy float32 `x / 127.5 - 1`. It rounds differently from
        // (p - 127.5) / 127.5 for p = 127 (-0.0039215684 vs -0.0039215689) and p = 128.
        let expected: [Float] = [0, 1, 127, 128, 254, 255].map { (p: Float) -> Float in p / 127.5 - 1 }
        #expect(v == expected)
        #expect(v[0] == -1 && v[5] == 1)
    }

    @Test func uint8PixelQuantizationsFeedRawPixels() {
        for (scale, zp) in [(Float(1.0 / 128), 128), (Float(0.007843137718737125), 127)] {
            let spec = ImageInputSpec(elementType: .uint8, width: 2, height: 1, scale: scale, zeroPoint: zp)
            #expect(InputPreprocessing().tensor(from: Self.image, spec: spec) == .uint8(Self.image.pixels))
        }
    }

    @Test func otherQuantizationsUseTheFormula() {
        // scale 1/64, zp 128: q = round((p/127.5 - 1) * 64 + 128); p=0 -> 64, p=255 -> 192, p=127 -> round(127.75) = 128.
        let spec = ImageInputSpec(elementType: .uint8, width: 2, height: 1, scale: 1.0 / 64, zeroPoint: 128)
        guard case let .uint8(q) = InputPreprocessing().tensor(from: Self.image, spec: spec) else { Issue.record("type"); return }
        #expect(q[0] == 64 && q[5] == 192 && q[2] == 128)
    }

    @Test func int8PixelQuantizationIsPixelMinus128() {
        let spec = ImageInputSpec(elementType: .int8, width: 2, height: 1, scale: 1.0 / 128, zeroPoint: 0)
        #expect(InputPreprocessing().tensor(from: Self.image, spec: spec) == .int8([-128, -127, -1, 0, 126, 127]))
    }
}
