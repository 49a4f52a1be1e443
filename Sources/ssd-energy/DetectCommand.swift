import ArgumentParser
import Detector
import Foundation
import Imaging
import Inference

/// Runs an SSD model on images and prints its detections (pixels of the original image).
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect objects in JPEG images with an SSD .tflite model.",
        discussion: """
            How to read the model's outputs comes from --description FILE, else <model>.ssd.json, else \
            model.json beside the model, else the shared models' conventions (labelmap.txt with \
            TFLite_Detection_PostProcess; labels_coco_dataset_80.txt with an anchors output). \
            Boxes are xmin,ymin,xmax,ymax in pixels of each original image.
            """
    )

    @Option(name: .long, help: "The .tflite model.")
    var model: String

    @Option(name: .long, help: "A model description JSON (see ModelDescription).")
    var description: String?

    @Argument(help: "JPEG images.")
    var images: [String]

    @Flag(name: .long, help: "Print JSON (one object per image) instead of text.")
    var json = false

    @Option(name: .long, help: "Threads the convolutions split their work across.")
    var threads: Int = 1

    @Option(name: .customLong("score-threshold"), help: "Only print detections with a higher score.")
    var scoreThreshold: Float?

    @Option(name: .customLong("weights"), help: "How convolutions read float16 weights: widened to float32 at load, or on the fly.")
    var weightPrecision: Interpreter.WeightPrecision = .float32

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        // Refuse rather than silently ignore a setting the engine does not have.
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    struct ImageResult: Encodable {
        var image: String
        var width: Int
        var height: Int
        var detections: [Detection]
    }

    func run() throws {
        let detector: SSDDetector
        do {
            detector = try SSDDetector(modelPath: model, descriptionPath: description,
                                       options: .init(weightPrecision: weightPrecision,
                                                     threads: threads))
        } catch {
            throw UserFacingError("\(error)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for path in images {
            let result: ImageResult
            do {
                let image = try JPEGDecoder.decode(path: path)
                let detections = try detector.detect(image, scoreThreshold: scoreThreshold)
                result = ImageResult(image: path, width: image.width, height: image.height, detections: detections)
            } catch {
                throw UserFacingError("\(error)")
            }
            if json {
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print("\(path) (\(result.width)x\(result.height)): \(result.detections.count) detections")
                for d in result.detections {
                    print(String(format: "  %-14@ id %2d  score %.3f  box %.1f,%.1f,%.1f,%.1f",
                                 d.label as NSString, d.categoryID, d.score, d.xmin, d.ymin, d.xmax, d.ymax))
                }
            }
        }
    }
}
