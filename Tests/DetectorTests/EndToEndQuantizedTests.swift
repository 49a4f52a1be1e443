import DataLocation
import Foundation
import Testing
@testable import Detector

/// The whole Swift pipeline — JPEG decoding, Pillow-exact resize, raw-pixel input, the quantized
/// engine, decoding and NMS — gives, for each quantized shared model, the detections of LiteRT's
/// reference kernels + the reference post-processing of reference-litert.md
/// (Fixtures/end_to_end_quantized.json, made by benchmarks/litert/make_end_to_end_fixture.py).
@Suite struct EndToEndQuantizedTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let model: String
        let image: String
        var testDescription: String { "\((model as NSString).lastPathComponent) on \((image as NSString).lastPathComponent)" }
    }

    static let cases: [Case] = {
        guard let fixture = try? FixtureFiles.json("end_to_end_quantized.json"),
              let models = fixture["models"] as? [[String: Any]] else { return [Case(model: "fixture missing", image: "")] }
        return models.flatMap { model in
            (model["images"] as! [[String: Any]]).map { Case(model: model["model"] as! String, image: $0["image"] as! String) }
        }
    }()

    @Test(arguments: cases)
    func detectionsEqualLiteRTReference(_ testCase: Case) throws {
        let models = try FixtureFiles.json("end_to_end_quantized.json")["models"] as! [[String: Any]]
        let entry = try #require(models.first { $0["model"] as? String == testCase.model }, "\(testCase.model) not in the fixture")
        let expected = (entry["images"] as! [[String: Any]]).first { $0["image"] as! String == testCase.image }!["detections"] as! [[String: Any]]
        let tolerance = (entry["box_tolerance_px"] as! NSNumber).doubleValue

        let dir = try DataDirectory.locate(callerFile: #filePath)
        let detector = try SSDDetector(modelPath: try dir.requireFile(testCase.model))
        let detections = try detector.detect(imagePath: try dir.requireFile(testCase.image))

        #expect(detections.count == expected.count)
        #expect(detections.map(\.categoryID) == expected.map { $0["category_id"] as! Int })
        #expect(detections.map(\.score) == expected.map { float($0["score"]!) })
        for (ours, theirs) in zip(detections, expected) {
            let box = (theirs["box_xyxy"] as! [NSNumber]).map(\.doubleValue)
            let mine = [ours.xmin, ours.ymin, ours.xmax, ours.ymax]
            #expect(zip(mine, box).allSatisfy { abs($0 - $1) <= tolerance }, "\(ours.label) \(ours.score): \(mine) vs \(box)")
        }
    }

    /// The fixture covers every quantized model and has detections to compare (a fixture with no
    /// detections would pass vacuously).
    @Test func fixtureCoversTheThreeQuantizedModels() throws {
        let models = try FixtureFiles.json("end_to_end_quantized.json")["models"] as! [[String: Any]]
        let names = models.map { ($0["model"] as! String as NSString).lastPathComponent }
        #expect(names == ["detect.tflite", "ssd_mobilenet_v2_fpnlite_10_256_int8.tflite", "ssdlite_mobilenet_v2_person_int8.tflite"])
        for model in models {
            let counts = (model["images"] as! [[String: Any]]).map { ($0["detections"] as! [Any]).count }
            #expect(counts.reduce(0, +) > 10, "\(model["model"]!): \(counts)")
        }
    }
}
