import COCO
import Detector
import Foundation
import Imaging

/// Model → detections on every image of an evaluation set → COCO evaluation, as `eval` and the
/// trade-off run's accuracy both do it.
public enum DetectorEvaluation {
    public struct Outcome {
        public var detections: [COCODetection]
        public var evaluation: COCOEvaluation
        /// The categories scored: those the model can output that the annotation file has.
        public var categoryIDs: [Int]
        public var imageCount: Int
        /// Decoded boxes with a negative width or height (corner-offset decoding can invert corners),
        /// left out: they are not boxes, and COCO results must not contain them.
        public var invertedBoxesDropped: Int
    }

    public struct NoCommonCategories: Error, CustomStringConvertible {
        public let modelPath: String
        public let annotationPath: String
        public var description: String {
            "\(modelPath) predicts no category that \(annotationPath) annotates: nothing to evaluate"
        }
    }

    /// Runs the detector over the images (full pipeline: decode, resize, normalise, graph, decode
    /// boxes, NMS) and scores the detections. Only the categories the model can predict are scored
    /// (a person-only model is scored on person, as pycocotools with `params.catIds = [1]`).
    public static func run(detector: SSDDetector, on set: EvaluationImageSet,
                           progress: ((Int, Int) -> Void)? = nil) throws -> Outcome {
        var detections: [COCODetection] = []
        var inverted = 0
        for (index, image) in set.images.enumerated() {
            let found = try detector.detect(imagePath: image.path)
            for d in found {
                // pycocotools would give such a box a negative area, which no area range admits, so
                // it could never match; it would only occupy one of the image's maxDets slots.
                guard d.xmax >= d.xmin, d.ymax >= d.ymin else {
                    inverted += 1
                    continue
                }
                detections.append(COCODetection(
                    imageID: image.id, categoryID: d.categoryID,
                    bbox: COCOBox(x: d.xmin, y: d.ymin, width: d.xmax - d.xmin, height: d.ymax - d.ymin),
                    score: Double(d.score)))
            }
            progress?(index + 1, set.images.count)
        }
        let gt = try set.groundTruthForChosenImages()
        let modelCategories = Set(detector.description.labels.entries.values.map(\.categoryID))
        let scored = gt.categories.map(\.id).filter { modelCategories.contains($0) }
        guard !scored.isEmpty else {
            throw NoCommonCategories(modelPath: detector.modelPath, annotationPath: set.annotationPath)
        }
        let scoredSet = Set(scored)
        let restricted = scored.count == gt.categories.count ? gt : try COCOGroundTruth(
            images: gt.images, categories: gt.categories.filter { scoredSet.contains($0.id) },
            annotations: gt.annotations.filter { scoredSet.contains($0.categoryID) }, source: set.annotationPath)
        let kept = detections.filter { scoredSet.contains($0.categoryID) }
        let evaluation = try COCOBoxEvaluator.evaluate(groundTruth: restricted, detections: kept,
                                                       detectionsSource: detector.modelPath)
        return Outcome(detections: kept, evaluation: evaluation, categoryIDs: scored, imageCount: set.images.count,
                       invertedBoxesDropped: inverted)
    }
}
