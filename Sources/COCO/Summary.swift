import Foundation

/// pycocotools' `COCOeval.summarize()`: the 12 standard numbers, -1 where nothing could be measured.
public struct COCOSummary: Sendable, Equatable {
    /// AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl, in pycocotools' `stats` order.
    public let stats: [Double]

    public static let names = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]

    /// What each stat averages: AP or AR, an IoU threshold (nil = all), an area range, max detections.
    struct Definition {
        let isPrecision: Bool
        let iouThreshold: Double?
        let area: String
        let maxDetections: Int
    }

    static let definitions: [Definition] = [
        Definition(isPrecision: true, iouThreshold: nil, area: "all", maxDetections: 100),
        Definition(isPrecision: true, iouThreshold: 0.5, area: "all", maxDetections: 100),
        Definition(isPrecision: true, iouThreshold: 0.75, area: "all", maxDetections: 100),
        Definition(isPrecision: true, iouThreshold: nil, area: "small", maxDetections: 100),
        Definition(isPrecision: true, iouThreshold: nil, area: "medium", maxDetections: 100),
        Definition(isPrecision: true, iouThreshold: nil, area: "large", maxDetections: 100),
        Definition(isPrecision: false, iouThreshold: nil, area: "all", maxDetections: 1),
        Definition(isPrecision: false, iouThreshold: nil, area: "all", maxDetections: 10),
        Definition(isPrecision: false, iouThreshold: nil, area: "all", maxDetections: 100),
        Definition(isPrecision: false, iouThreshold: nil, area: "small", maxDetections: 100),
        Definition(isPrecision: false, iouThreshold: nil, area: "medium", maxDetections: 100),
        Definition(isPrecision: false, iouThreshold: nil, area: "large", maxDetections: 100),
    ]

    public init(stats: [Double]) {
        self.stats = stats
    }

    /// Computed from an evaluation's category-major storage (see COCOEvaluation).
    init(evaluationWithoutSummary parts: (shape: COCOEvaluation.Shape, precision: [Double], recall: [Double])) {
        let (shape, precision, recall) = parts
        let thresholds = COCOEvaluationParameters.iouThresholds
        var cells: [Double] = []
        stats = Self.definitions.map { definition in
            let area = COCOEvaluationParameters.areaRanges.firstIndex { $0.label == definition.area }!
            let maxIndex = COCOEvaluationParameters.maxDetections.firstIndex(of: definition.maxDetections)!
            // `np.where(iouThr == p.iouThrs)`: an exact comparison with numpy's thresholds.
            let selected = definition.iouThreshold.map { wanted in thresholds.indices.filter { thresholds[$0] == wanted } }
                ?? Array(thresholds.indices)
            // Gather in numpy's C order (t, r, k) / (t, k): the order decides how the mean rounds.
            cells.removeAll(keepingCapacity: true)
            for threshold in selected {
                if definition.isPrecision {
                    for recallIndex in 0..<shape.recalls {
                        for category in 0..<shape.categories {
                            cells.append(precision[shape.storageIndex(threshold, category, area, maxIndex) * shape.recalls + recallIndex])
                        }
                    }
                } else {
                    for category in 0..<shape.categories {
                        cells.append(recall[shape.storageIndex(threshold, category, area, maxIndex)])
                    }
                }
            }
            return NumpySum.meanOfValid(cells)
        }
    }

    public var ap: Double { stats[0] }
    public var ap50: Double { stats[1] }
    public var ap75: Double { stats[2] }

    /// The 12 lines pycocotools prints, e.g.
    /// ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.505`.
    public var lines: [String] {
        zip(Self.definitions, stats).map { definition, value in
            let title = definition.isPrecision ? "Average Precision" : "Average Recall"
            let kind = definition.isPrecision ? "(AP)" : "(AR)"
            let iou = definition.iouThreshold.map { String(format: "%0.2f", $0) } ?? "0.50:0.95"
            return " " + title.padding(toLength: 18, withPad: " ", startingAt: 0) + " \(kind) @[ IoU="
                + iou.padding(toLength: 9, withPad: " ", startingAt: 0) + " | area="
                + String(repeating: " ", count: max(0, 6 - definition.area.count)) + definition.area
                + " | maxDets=" + String(format: "%3d", definition.maxDetections) + " ] = "
                + String(format: "%0.3f", value)
        }
    }
}
