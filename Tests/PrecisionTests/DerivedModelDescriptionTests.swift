import DataLocation
import Detector
import Foundation
import Precision
import Testing
import TFLiteModel

/// A converted model written with its description works away from the source's folder: the
/// description loads back, carries the input normalisation of the converted file, and the derived
/// float v1 finds the objects LiteRT finds with the shipped uint8 file.
@Suite struct DerivedModelDescriptionTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("derived-description-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// v1 uint8 -> fp32 written to a folder without labelmap.txt; returns the written model.
    static func deriveV1Float(into directory: URL) throws -> (written: WrittenDerivedModel, sourcePath: String) {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let sourcePath = try dir.requireFile("models/ssd_mobilenet_v1_coco_quant/detect.tflite")
        let source = try TFLiteModel(contentsOf: URL(fileURLWithPath: sourcePath))
        let description = try DerivedModelFiles.sourceDescription(of: source, path: sourcePath)
        let written = try DerivedModelFiles.write(try Dequantization.convert(source),
                                                  to: directory.appendingPathComponent("v1_fp32.tflite").path,
                                                  sourceDescription: description)
        return (written, sourcePath)
    }

    @Test func descriptionBesideTheDerivedV1HasItsNormalisationAndTheSourcesLabels() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (written, sourcePath) = try Self.deriveV1Float(into: directory)
        let descriptionPath = try #require(written.descriptionPath)
        #expect(descriptionPath == directory.appendingPathComponent("v1_fp32.ssd.json").path)

        let derived = try ModelDescription.load(path: descriptionPath)
        let original = try DescriptionResolver.resolve(modelPath: sourcePath,
                                                       graph: GraphSummary(outputs: [], hasDetectionPostProcess: true))
        #expect(derived.outputs == .postProcessed)
        #expect(derived.labels == original.labels)
        // The shipped input is uint8 with scale 1/128, zero point 128 (shared/README.md): real value =
        // (p - 128) / 128, so the float input must be fed with mean 128, std 128.
        #expect(derived.preprocessing == InputPreprocessing(mean: 128, std: 128))

        // The detector finds the description by itself, with no labelmap.txt in that folder.
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("labelmap.txt").path))
        let detector = try SSDDetector(modelPath: written.modelPath)
        #expect(detector.inputSpec.elementType == .float32)
        #expect(detector.description.preprocessing == InputPreprocessing(mean: 128, std: 128))
    }

    /// The float graph skips the uint8 model's rounding of every activation, so scores and boxes move
    /// a little; the objects must not. Expected detections: LiteRT's reference kernels on the shipped
    /// uint8 file (DetectorTests/Fixtures/end_to_end_quantized.json). Every reference detection scoring
    /// at least 0.5 must be found again with the same COCO category, a box overlapping it by IoU >= 0.7
    /// and a score within 0.05. Why 0.05: the uint8 scores sit on a 1/256 grid and every one of v1's
    /// ~30 quantized layers rounds once more (0.012 is the largest change seen on these photos), while
    /// a wrong normalisation, label column, anchor set or a lost clamp moves categories, boxes and scores
    /// far beyond it (before the implied ReLU6s were kept, every score was 1.0). v1's post-process
    /// keeps at most 10 detections (shared/README.md), so a reference detection within 0.05 of the
    /// lowest score the float model kept may be displaced by a near-tie and is not required.
    @Test func derivedV1FloatFindsTheObjectsOfTheUint8Original() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (written, _) = try Self.deriveV1Float(into: directory)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../DetectorTests/Fixtures/end_to_end_quantized.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])
        let models = try #require(json["models"] as? [[String: Any]])
        let v1 = try #require(models.first { ($0["model"] as? String)?.hasSuffix("detect.tflite") == true })
        let images = try #require(v1["images"] as? [[String: Any]])
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let detector = try SSDDetector(modelPath: written.modelPath)
        var compared = 0
        for image in images {
            let found = try detector.detect(imagePath: try dir.requireFile(image["image"] as! String))
            let lowestKept = found.count >= 10 ? Double(found.map(\.score).min()!) : 0
            for reference in image["detections"] as! [[String: Any]] {
                let score = (reference["score"] as! NSNumber).doubleValue
                guard score >= 0.5, score > lowestKept + 0.05 else { continue }
                let category = reference["category_id"] as! Int
                let box = (reference["box_xyxy"] as! [NSNumber]).map(\.doubleValue)
                let match = found.filter { $0.categoryID == category }
                    .max { Self.iou($0, box) < Self.iou($1, box) }
                let m = try #require(match, "\(image["image"]!): no category \(category) found (reference score \(score))")
                #expect(Self.iou(m, box) >= 0.7, "\(image["image"]!) category \(category): IoU \(Self.iou(m, box))")
                #expect(abs(Double(m.score) - score) <= 0.05, "\(image["image"]!) category \(category): \(m.score) vs \(score)")
                compared += 1
            }
        }
        #expect(compared >= 3, "too few confident reference detections to compare: \(compared)")
    }

    static func iou(_ d: Detection, _ b: [Double]) -> Double {
        let w = max(0, min(d.xmax, b[2]) - max(d.xmin, b[0])), h = max(0, min(d.ymax, b[3]) - max(d.ymin, b[1]))
        let inter = w * h
        let union = (d.xmax - d.xmin) * (d.ymax - d.ymin) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return union > 0 ? inter / union : 0
    }

    /// A source with no description still converts (invoke and bench need none); no .ssd.json is
    /// written, and asking for the source's description says which file lacks one.
    @Test func sourceWithoutDescriptionWritesNoDescription() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sourcePath = directory.appendingPathComponent("conv_uint8.tflite").path
        let source = try ConversionTests.uint8ConvModel()
        try Data(source.bytes).write(to: URL(fileURLWithPath: sourcePath))
        let error = try #require(throws: DetectorError.self) {
            try DerivedModelFiles.sourceDescription(of: source, path: sourcePath)
        }
        #expect(error.description.contains(sourcePath))

        let output = directory.appendingPathComponent("conv_fp32.tflite").path
        let written = try DerivedModelFiles.write(try Dequantization.convert(source), to: output, sourceDescription: nil)
        #expect(written.descriptionPath == nil)
        #expect(!FileManager.default.fileExists(atPath: DerivedModelFiles.descriptionPath(forModel: output)))
        #expect(try TFLiteModel(contentsOf: URL(fileURLWithPath: output)).mainSubgraph.operators.count == 1)
    }
}
