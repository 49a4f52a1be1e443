/// The result of a COCO box evaluation: pycocotools' `eval['precision']`, `['recall']`, `['scores']`
/// (same layout, flattened in C order) and the 12 summary statistics.
public struct COCOEvaluation: Sendable {
    /// Sorted image ids and category ids: the K axis of the arrays follows `categoryIDs`.
    public let imageIDs: [Int]
    public let categoryIDs: [Int]
    /// [T=10 IoU thresholds][R=101 recall thresholds][K categories][A=4 areas][M=3 max detections];
    /// -1 where a category has no (non-ignored) ground truth.
    public let precision: [Double]
    /// [T][K][A][M].
    public let recall: [Double]
    /// Detection score at each precision cell, same layout as `precision`.
    public let scores: [Double]
    public let shape: Shape
    public let summary: COCOSummary

    init(imageIDs: [Int], categoryIDs: [Int], precision: [Double], recall: [Double], scores: [Double]) {
        self.imageIDs = imageIDs
        self.categoryIDs = categoryIDs
        self.precision = precision
        self.recall = recall
        self.scores = scores
        self.shape = Shape(categories: categoryIDs.count)
        self.summary = COCOSummary(precision: precision, recall: recall, shape: shape)
    }

    /// The array dimensions and the flattening pycocotools' numpy arrays use.
    public struct Shape: Sendable, Equatable {
        public let thresholds = COCOEvaluationParameters.iouThresholds.count
        public let recalls = COCOEvaluationParameters.recallThresholds.count
        public let categories: Int
        public let areas = COCOEvaluationParameters.areaRanges.count
        public let maxDetections = COCOEvaluationParameters.maxDetections.count

        public var precisionCount: Int { thresholds * recalls * categories * areas * maxDetections }
        public var recallCount: Int { thresholds * categories * areas * maxDetections }

        public func precisionIndex(threshold: Int, recall: Int, category: Int, area: Int, maxDetections m: Int) -> Int {
            (((threshold * recalls + recall) * categories + category) * areas + area) * maxDetections + m
        }

        public func recallIndex(threshold: Int, category: Int, area: Int, maxDetections m: Int) -> Int {
            ((threshold * categories + category) * areas + area) * maxDetections + m
        }
    }

    /// Per-category AP (IoU .50:.95, all areas, 100 detections), as detectron and friends compute it
    /// from the precision array; -1 for a category without ground truth.
    public var categoryAP: [(categoryID: Int, ap: Double)] {
        let all = 0
        let maxIndex = shape.maxDetections - 1
        return categoryIDs.enumerated().map { category, id in
            var cells: [Double] = []
            cells.reserveCapacity(shape.thresholds * shape.recalls)
            for threshold in 0..<shape.thresholds {
                for recall in 0..<shape.recalls {
                    cells.append(precision[shape.precisionIndex(
                        threshold: threshold, recall: recall, category: category, area: all, maxDetections: maxIndex)])
                }
            }
            return (id, NumpySum.meanOfValid(cells))
        }
    }
}
