/// A candidate or kept box before it is mapped to pixels and labels.
public struct ScoredBox: Sendable, Equatable {
    public var box: NormalizedBox
    /// Class column in the model's score output (background column, if any, included in the count).
    public var classIndex: Int
    public var score: Float
    /// Which anchor produced it (for tie-breaking and debugging).
    public var anchor: Int
}

/// Class-aware greedy non-maximum suppression, as in the reference post-processing of
/// reference-litert.md.
///
/// Rules (stated because they decide ties):
/// - a candidate needs score > scoreThreshold (strictly, as "score > 0.05" in the reference);
/// - candidates are visited by descending score, equal scores by ascending anchor index, then
///   ascending class index;
/// - a box is suppressed by an already kept box of the same class when IoU > iouThreshold
///   (strictly, as TFLite's kernel and TF's non_max_suppression; IoU exactly at the threshold keeps it);
/// - at most maxDetections boxes over all classes, the best scores first.
public struct NonMaxSuppression: Sendable, Equatable {
    public enum CandidateRule: Sendable, Equatable {
        /// Each anchor proposes only its best non-background class (the ST model's reference).
        case bestClassPerAnchor
        /// Each anchor proposes every non-background class over the threshold (TF OD API's
        /// multiclass NMS).
        case everyClass
    }

    public var iouThreshold: Float
    public var scoreThreshold: Float = 0.05
    public var maxDetections: Int = 100
    public var candidates: CandidateRule = .bestClassPerAnchor

    public init(iouThreshold: Float, scoreThreshold: Float = 0.05, maxDetections: Int = 100,
                candidates: CandidateRule = .bestClassPerAnchor) {
        self.iouThreshold = iouThreshold
        self.scoreThreshold = scoreThreshold
        self.maxDetections = maxDetections
        self.candidates = candidates
    }

    /// - scores: [boxes.count x columns] probabilities; `backgroundColumn` (if any) never proposes.
    public func run(boxes: [NormalizedBox], scores: [Float], columns: Int, backgroundColumn: Int?) -> [ScoredBox] {
        precondition(scores.count == boxes.count * columns, "scores do not match boxes")
        var proposals: [ScoredBox] = []
        for anchor in boxes.indices {
            let row = anchor * columns
            switch candidates {
            case .bestClassPerAnchor:
                var best: Int?
                for c in 0..<columns where c != backgroundColumn {
                    if best == nil || scores[row + c] > scores[row + best!] { best = c }
                }
                if let best, scores[row + best] > scoreThreshold {
                    proposals.append(ScoredBox(box: boxes[anchor], classIndex: best, score: scores[row + best], anchor: anchor))
                }
            case .everyClass:
                for c in 0..<columns where c != backgroundColumn && scores[row + c] > scoreThreshold {
                    proposals.append(ScoredBox(box: boxes[anchor], classIndex: c, score: scores[row + c], anchor: anchor))
                }
            }
        }
        return select(proposals)
    }

    /// Greedy per-class NMS over already thresholded proposals.
    public func select(_ proposals: [ScoredBox]) -> [ScoredBox] {
        let ordered = proposals.sorted {
            if $0.score != $1.score { return $0.score > $1.score }
            if $0.anchor != $1.anchor { return $0.anchor < $1.anchor }
            return $0.classIndex < $1.classIndex
        }
        var keptByClass: [Int: [NormalizedBox]] = [:]
        var kept: [ScoredBox] = []
        for candidate in ordered {
            if kept.count == maxDetections { break }
            let sameClass = keptByClass[candidate.classIndex, default: []]
            if sameClass.contains(where: { $0.intersectionOverUnion(candidate.box) > iouThreshold }) { continue }
            keptByClass[candidate.classIndex, default: []].append(candidate.box)
            kept.append(candidate)
        }
        return kept
    }
}
