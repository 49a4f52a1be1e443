/// The result of a COCO box evaluation: what pycocotools keeps in `eval['precision']`,
/// `['recall']` and `['scores']`, and the 12 summary statistics.
public struct COCOEvaluation: Sendable {
    /// Sorted image ids and category ids: the category axis follows `categoryIDs`.
    public let imageIDs: [Int]
    public let categoryIDs: [Int]
    public let shape: Shape
    public let summary: COCOSummary

    // Stored category-major ([K][A][M][T][R]) so each precision column one category produces is
    // contiguous; numpy's [T][R][K][A][M] order is available through the accessors below.
    let precisionStorage: [Double]
    let scoreStorage: [Double]
    let recallStorage: [Double]

    init(imageIDs: [Int], categoryIDs: [Int], precision: [Double], scores: [Double], recall: [Double]) {
        self.imageIDs = imageIDs
        self.categoryIDs = categoryIDs
        self.shape = Shape(categories: categoryIDs.count)
        self.precisionStorage = precision
        self.scoreStorage = scores
        self.recallStorage = recall
        self.summary = COCOSummary(evaluationWithoutSummary: (shape, precision, recall))
    }

    /// Precision at one recall threshold; -1 where the category has no non-ignored ground truth.
    /// Indices: IoU threshold 0..<10, recall threshold 0..<101, category (position in `categoryIDs`),
    /// area range 0..<4 (all, small, medium, large), max detections 0..<3 (1, 10, 100).
    public func precision(threshold: Int, recall: Int, category: Int, area: Int, maxDetections: Int) -> Double {
        precisionStorage[shape.storageIndex(threshold, category, area, maxDetections) * shape.recalls + recall]
    }

    /// The detection score at which that precision is reached (pycocotools' `eval['scores']`).
    public func score(threshold: Int, recall: Int, category: Int, area: Int, maxDetections: Int) -> Double {
        scoreStorage[shape.storageIndex(threshold, category, area, maxDetections) * shape.recalls + recall]
    }

    /// Final recall; -1 where the category has no non-ignored ground truth.
    public func recall(threshold: Int, category: Int, area: Int, maxDetections: Int) -> Double {
        recallStorage[shape.storageIndex(threshold, category, area, maxDetections)]
    }

    /// `eval['precision']` flattened in numpy's C order: [T=10][R=101][K][A=4][M=3].
    public var precisionArray: [Double] { numpyOrder(includingRecall: true) { precision(threshold: $0, recall: $1, category: $2, area: $3, maxDetections: $4) } }
    /// `eval['scores']` flattened in numpy's C order: [T][R][K][A][M].
    public var scoresArray: [Double] { numpyOrder(includingRecall: true) { score(threshold: $0, recall: $1, category: $2, area: $3, maxDetections: $4) } }
    /// `eval['recall']` flattened in numpy's C order: [T][K][A][M].
    public var recallArray: [Double] { numpyOrder(includingRecall: false) { recall(threshold: $0, category: $2, area: $3, maxDetections: $4) } }

    private func numpyOrder(includingRecall: Bool, _ value: (Int, Int, Int, Int, Int) -> Double) -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(includingRecall ? shape.precisionCount : shape.recallCount)
        for t in 0..<shape.thresholds {
            for r in 0..<(includingRecall ? shape.recalls : 1) {
                for k in 0..<shape.categories {
                    for a in 0..<shape.areas {
                        for m in 0..<shape.maxDetections { values.append(value(t, r, k, a, m)) }
                    }
                }
            }
        }
        return values
    }

    /// The array dimensions.
    public struct Shape: Sendable, Equatable {
        public let thresholds = COCOEvaluationParameters.iouThresholds.count
        public let recalls = COCOEvaluationParameters.recallThresholds.count
        public let categories: Int
        public let areas = COCOEvaluationParameters.areaRanges.count
        public let maxDetections = COCOEvaluationParameters.maxDetections.count

        public var precisionCount: Int { thresholds * recalls * categories * areas * maxDetections }
        public var recallCount: Int { thresholds * categories * areas * maxDetections }

        /// Index of a (threshold, category, area, max detections) column in category-major storage.
        func storageIndex(_ threshold: Int, _ category: Int, _ area: Int, _ maxIndex: Int) -> Int {
            ((category * areas + area) * maxDetections + maxIndex) * thresholds + threshold
        }
    }

    /// Per-category AP (IoU .50:.95, all areas, 100 detections), as detectron and friends compute it:
    /// `np.mean(p[p > -1])` of `precision[:, :, k, 0, -1]`; -1 for a category without ground truth.
    public var categoryAP: [(categoryID: Int, ap: Double)] {
        let maxIndex = shape.maxDetections - 1
        return categoryIDs.enumerated().map { category, id in
            var cells: [Double] = []
            cells.reserveCapacity(shape.thresholds * shape.recalls)
            for threshold in 0..<shape.thresholds {
                for recall in 0..<shape.recalls {
                    cells.append(precision(threshold: threshold, recall: recall, category: category, area: 0, maxDetections: maxIndex))
                }
            }
            return (id, NumpySum.meanOfValid(cells))
        }
    }
}
