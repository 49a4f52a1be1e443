import Detector
import Foundation
import Imaging
import Inference

/// One SSD model at one thread count, as the harness measures it.
///
/// `prepare` loads the model and decodes + resizes the images (Pillow-exact bilinear) once, outside
/// every measurement. One measured `infer` is the rest of a detection: normalise/quantize the
/// pixels into the input tensor, run the graph, decode boxes and NMS — what a deployed detector
/// pays per frame once the camera has delivered pixels at the model's size.
public final class DetectorWorkload: InferenceWorkload {
    public let configuration: RunConfiguration
    private let imagePaths: [String]
    private let weightPrecision: Interpreter.WeightPrecision
    private var detector: SSDDetector?
    private var resized: [RGBImage] = []
    private var originalSizes: [(width: Int, height: Int)] = []

    public init(configuration: RunConfiguration, imagePaths: [String],
                weightPrecision: Interpreter.WeightPrecision = .float32) {
        self.configuration = configuration
        self.imagePaths = imagePaths
        self.weightPrecision = weightPrecision
    }

    public func prepare() throws {
        guard configuration.threads >= 1 else {
            throw WorkloadError(message: "\(configuration.id): --threads must be at least 1")
        }
        let detector = try SSDDetector(modelPath: configuration.modelPath,
                                       options: Interpreter.Options(weightPrecision: weightPrecision,
                                                                    threads: configuration.threads))
        resized = []
        originalSizes = []
        for path in imagePaths {
            let image = try JPEGDecoder.decode(path: path)
            originalSizes.append((image.width, image.height))
            resized.append(PillowBilinearResize.resize(image, width: detector.inputSpec.width,
                                                       height: detector.inputSpec.height))
        }
        self.detector = detector
    }

    public var imageCount: Int { resized.count }

    public func infer(imageIndex: Int) throws {
        guard let detector, !resized.isEmpty else { throw WorkloadError(message: "\(configuration.id): infer before prepare") }
        let i = imageIndex % resized.count
        let input = detector.description.preprocessing.tensor(from: resized[i], spec: detector.inputSpec)
        try detector.invoke(input)
        _ = try detector.decodeOutputs(imageWidth: originalSizes[i].width, imageHeight: originalSizes[i].height)
    }

    public var peakMemoryBytes: Int? { detector?.interpreter.peakArenaBytes }
}

public struct WorkloadError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// COCO accuracy of each model, computed once per model file with the full detection pipeline.
public final class DetectorAccuracy: AccuracyProvider {
    private let evaluationSet: EvaluationImageSet
    private let progress: ((String) -> Void)?
    private var cache: [String: AccuracyResult] = [:]

    public init(evaluationSet: EvaluationImageSet, progress: ((String) -> Void)? = nil) {
        self.evaluationSet = evaluationSet
        self.progress = progress
    }

    public func accuracy(for configuration: RunConfiguration) throws -> AccuracyResult {
        if let cached = cache[configuration.modelPath] { return cached }
        progress?("evaluating \(configuration.modelID) on \(evaluationSet.images.count) images")
        let detector = try SSDDetector(modelPath: configuration.modelPath)
        let outcome = try DetectorEvaluation.run(detector: detector, on: evaluationSet)
        let result = try AccuracyResult(
            stats: outcome.evaluation.summary.stats, annotationFile: evaluationSet.annotationPath,
            imageCount: outcome.imageCount,
            evaluator: "ssd-energy COCO evaluator (pycocotools COCOeval bbox semantics), categories "
                + (outcome.categoryIDs.count == 1 ? "\(outcome.categoryIDs[0])" : "\(outcome.categoryIDs.count)"))
        cache[configuration.modelPath] = result
        return result
    }
}
