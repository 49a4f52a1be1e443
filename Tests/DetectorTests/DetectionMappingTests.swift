import Foundation
import Testing
@testable import Detector

@Suite struct DetectionMappingTests {
    @Test func postProcessedOutputsMapClassesAndPixels() {
        let labels = LabelMap(entries: [0: .init(categoryID: 1, name: "person"), 2: .init(categoryID: 3, name: "car")])
        // Row 0: person at y 0.1...0.5, x 0.25...0.75 of a 200x100 image; row 1: class 1 has no label
        // (an unused COCO id) and is dropped; row 2 beyond the count is ignored.
        let detections = PostProcessedOutputs.detections(
            boxes: [0.1, 0.25, 0.5, 0.75, 0, 0, 1, 1, 0, 0, 1, 1], classes: [0, 1, 2], scores: [0.9, 0.8, 0.7], count: 2,
            labels: labels, imageWidth: 200, imageHeight: 100)
        #expect(detections.count == 1)
        let d = detections[0]
        #expect(d.categoryID == 1 && d.label == "person" && d.score == 0.9)
        #expect(abs(d.xmin - 50) < 1e-4 && abs(d.ymin - 10) < 1e-4 && abs(d.xmax - 150) < 1e-4 && abs(d.ymax - 50) < 1e-4)
        #expect(zip(d.cocoBox, [50.0, 10, 100, 40]).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// Boxes reaching outside the image stay as the model gave them (as in the reference runs).
    @Test func boxesAreScaledNotClipped() {
        let d = Detection(box: NormalizedBox(ymin: -0.25, xmin: 0.5, ymax: 1.25, xmax: 1.1), imageWidth: 10, imageHeight: 20,
                          categoryID: 1, label: "person", score: 1)
        #expect(d.ymin == -5 && d.ymax == 25 && d.xmin == 5 && abs(d.xmax - 11) < 1e-5)
    }

    @Test func postProcessedDescriptionWithNamesSkipsBackground() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pp-\(getpid()).ssd.json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try #"{"outputs": "postprocessed", "labels": ["background", "person", "bicycle"]}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let d = try ModelDescription.load(path: file)
        #expect(d.outputs == .postProcessed)
        #expect(d.labels.entries == [0: .init(categoryID: 1, name: "person"), 1: .init(categoryID: 2, name: "bicycle")])
    }
}
