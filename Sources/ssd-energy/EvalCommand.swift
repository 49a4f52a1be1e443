import ArgumentParser
import COCO
import DataLocation
import Detector
import Foundation
import Harness
import Inference

/// Detector + COCO evaluation in one step: the accuracy half of the trade-off.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run an SSD model over COCO images and score its boxes as pycocotools' COCOeval(..., 'bbox').",
        discussion: """
            Evaluation post-processing (raw-output models): score > --score-threshold (0.05), per-class \
            NMS at --iou (default: the model description's, 0.6 for the person model, 0.45 for the ST \
            model), at most --max-detections (100) per image; boxes not clipped. Models with \
            TFLite_Detection_PostProcess keep their own NMS (at most 10 boxes for the shared v1). Decoded \
            boxes with a negative width or height (the corner-offset decoding can invert corners) are \
            left out: pycocotools could never match them. Only the \
            categories the model can predict are scored (a person model is scored on person alone, as \
            pycocotools with params.catIds = [1]). Defaults: the shared val2017 subset.
            """)

    @OptionGroup var dataOptions: DataOptions

    @Option(name: .long, help: "The .tflite model.")
    var model: String

    @Option(name: .long, help: "A model description JSON (see `detect --help`).")
    var description: String?

    @Option(name: .long, help: "COCO instances file (default: the shared val2017 subset's).")
    var annotations: String?

    @Option(name: .long, help: "Folder with the annotated images (default: the shared val2017 subset's).")
    var images: String?

    @Option(name: .long, help: "Evaluate only the first N images of the annotation file.")
    var limit: Int?

    @Option(name: .customLong("detections-out"), help: "Write the detections as a COCO results JSON file.")
    var detectionsOut: String?

    @Option(name: .customLong("score-threshold"), help: "Candidate score threshold before NMS (raw-output models).")
    var scoreThreshold: Float?

    @Option(name: .long, help: "NMS IoU threshold (raw-output models).")
    var iou: Float?

    @Option(name: .customLong("max-detections"), help: "Detections kept per image after NMS (raw-output models).")
    var maxDetections: Int?

    @Option(name: .customLong("weights"), help: "How convolutions read float16 weights: widened to float32 at load, or on the fly.")
    var weightPrecision: Interpreter.WeightPrecision = .float32

    @Flag(name: .long, help: "Print one JSON object with \"stats\" (pycocotools' order and by name) instead of text.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let maxDetections, maxDetections < 1 { throw ValidationError("--max-detections must be at least 1") }
        if let iou, !(iou > 0 && iou <= 1) { throw ValidationError("--iou must be in (0, 1]") }
    }

    func run() throws {
        let subset = "data/coco-val2017-subset"
        var data: DataDirectory?
        if annotations == nil || images == nil {
            do { data = try DataDirectory.locate(explicit: dataOptions.data) } catch { throw UserFacingError("\(error)") }
        }
        let annotationPath = annotations ?? data!.path("\(subset)/instances_val2017_subset.json")
        let imagesPath = images ?? data!.path("\(subset)/images")
        do {
            let set = try EvaluationImageSet(annotationPath: annotationPath, imagesDirectory: imagesPath, limit: limit)
            let detector = try SSDDetector(
                modelPath: model, descriptionPath: description,
                options: Interpreter.Options(weightPrecision: weightPrecision),
                overrides: .init(iouThreshold: iou, scoreThreshold: scoreThreshold, maxDetections: maxDetections))
            let isTerminal = isatty(STDERR_FILENO) != 0
            let outcome = try DetectorEvaluation.run(detector: detector, on: set) { done, total in
                if isTerminal { FileHandle.standardError.write(Data("\r\(done)/\(total) images".utf8)) }
            }
            if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
            if let detectionsOut { try COCOResultsFile.write(outcome.detections, to: detectionsOut) }
            if json {
                var names: [Int: String] = [:]
                for category in set.groundTruth.categories { names[category.id] = category.name }
                print(outcome.evaluation.jsonReport(categoryNames: names))
            } else {
                print("\(model): \(outcome.imageCount) images, \(outcome.detections.count) detections, "
                      + "\(outcome.categoryIDs.count) categories scored"
                      + (outcome.invertedBoxesDropped > 0
                         ? ", \(outcome.invertedBoxesDropped) inverted boxes (negative width or height) left out" : ""))
                for line in outcome.evaluation.summary.lines { print(line) }
            }
        } catch let error as UserFacingError {
            throw error
        } catch {
            throw UserFacingError("\(error)")
        }
    }
}
