/// COCO accuracy of one model/precision, computed once (not inside the energy windows).
public struct AccuracyResult: Codable, Hashable, Sendable {
    /// pycocotools' order of `COCOeval.stats`.
    public static let statNames = ["AP", "AP50", "AP75", "APs", "APm", "APl",
                                   "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]

    /// The 12 stats in `statNames` order; pycocotools reports -1 where a stat has no ground truth.
    public var stats: [Double]
    /// The annotation file the detections were scored against.
    public var annotationFile: String
    public var imageCount: Int
    /// Who computed it, e.g. "ssd-energy COCO evaluator (pycocotools semantics)".
    public var evaluator: String

    public init(stats: [Double], annotationFile: String, imageCount: Int, evaluator: String) throws {
        guard stats.count == Self.statNames.count else {
            throw AccuracyError(message: "expected \(Self.statNames.count) COCO stats, got \(stats.count)")
        }
        self.stats = stats
        self.annotationFile = annotationFile
        self.imageCount = imageCount
        self.evaluator = evaluator
    }

    /// mAP@[.5:.95], the first stat.
    public var meanAveragePrecision: Double { stats[0] }

    public func stat(_ name: String) -> Double? {
        Self.statNames.firstIndex(of: name).map { stats[$0] }
    }
}

public struct AccuracyError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Computes accuracy for a model/precision (the harness asks once per model, whatever the thread
/// count: threads change speed, not detections).
public protocol AccuracyProvider: AnyObject {
    func accuracy(for configuration: RunConfiguration) throws -> AccuracyResult
}

/// Accuracy per model id, or why it is missing.
public struct AccuracyRecord: Codable, Hashable, Sendable {
    public var modelID: String
    public var precision: String
    public var result: AccuracyResult?
    public var unavailableReason: String?

    public init(modelID: String, precision: String, result: AccuracyResult?, unavailableReason: String?) {
        self.modelID = modelID
        self.precision = precision
        self.result = result
        self.unavailableReason = unavailableReason
    }
}
