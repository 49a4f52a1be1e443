/// One category's part of COCOeval: evaluateImg for every image and area range, then accumulate.
/// Holds scratch buffers that are reused across images and categories (no allocation per cell).
struct CategoryEvaluator {
    let input: CategoryEvaluationInput
    private let iouThresholds = COCOEvaluationParameters.iouThresholds
    private let recallThresholds = COCOEvaluationParameters.recallThresholds
    private let maxDetections = COCOEvaluationParameters.maxDetections
    private let areaRanges = COCOEvaluationParameters.areaRanges

    /// A detection after per-image matching. Bit `area * T + threshold` of `matched` says
    /// pycocotools' dtMatches is non-zero there, of `ignored` that dtIgnore is set.
    private struct Outcome {
        var score: Double
        var rankInImage: Int32
        /// Position in pycocotools' concatenation (image order, then rank): breaks score ties.
        var sequence: Int32
        var matched: UInt64 = 0
        var ignored: UInt64 = 0
    }

    private var outcomes: [Outcome] = []
    private var kept: [Outcome] = []
    private var sortedDetections: [Int] = []
    private var ious: [Double] = []
    private var gtIgnored: [Bool] = []
    private var gtOrder: [Int] = []
    private var gtMatched: [Bool] = []
    private var cumulativeRecall: [Double] = []
    private var cumulativePrecision: [Double] = []
    private var sortedScores: [Double] = []

    init(input: CategoryEvaluationInput) {
        self.input = input
        precondition(areaRanges.count * iouThresholds.count <= 64, "outcome flags must fit in 64 bits")
    }

    mutating func evaluate(category: Int, into output: CategoryEvaluationOutput) {
        outcomes.removeAll(keepingCapacity: true)
        var notIgnoredGroundTruth = [Int](repeating: 0, count: areaRanges.count)
        var gt = input.gtCategoryStarts[category]
        let gtEnd = input.gtCategoryStarts[category + 1]
        var dt = input.dtCategoryStarts[category]
        let dtEnd = input.dtCategoryStarts[category + 1]
        // Walk the images that have ground truth or detections of this category, in image-id order
        // (the order of pycocotools' concatenation in accumulate).
        while gt < gtEnd || dt < dtEnd {
            let image = min(gt < gtEnd ? input.gtImage[gt] : .max, dt < dtEnd ? input.dtImage[dt] : .max)
            let gtStart = gt
            while gt < gtEnd, input.gtImage[gt] == image { gt += 1 }
            let dtStart = dt
            while dt < dtEnd, input.dtImage[dt] == image { dt += 1 }
            evaluateImage(gt: gtStart..<gt, dt: dtStart..<dt, notIgnoredGroundTruth: &notIgnoredGroundTruth)
        }
        accumulate(category: category, notIgnoredGroundTruth: notIgnoredGroundTruth, into: output)
    }

    // MARK: evaluateImg

    private mutating func evaluateImage(gt: Range<Int>, dt: Range<Int>, notIgnoredGroundTruth: inout [Int]) {
        let thresholdCount = iouThresholds.count
        let maxDetection = maxDetections[maxDetections.count - 1]

        // Detections by descending score; ties keep file order like np.argsort(-s, kind='mergesort').
        sortedDetections.removeAll(keepingCapacity: true)
        sortedDetections.append(contentsOf: dt)
        let scores = input.dtScores
        sortedDetections.sort { a, b in scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        let detectionCount = min(sortedDetections.count, maxDetection)
        let gtCount = gt.count

        // IoU of every kept detection with every ground truth, as maskApi.c bbIou computes it.
        ious.removeAll(keepingCapacity: true)
        ious.reserveCapacity(detectionCount * gtCount)
        for d in 0..<detectionCount {
            let detectionBox = input.dtBoxes[sortedDetections[d]]
            for g in gt {
                ious.append(Self.boxIoU(detection: detectionBox, groundTruth: input.gtBoxes[g], crowd: input.gtCrowd[g]))
            }
        }

        let outcomeStart = outcomes.count
        for rank in 0..<detectionCount {
            outcomes.append(
                Outcome(score: scores[sortedDetections[rank]], rankInImage: Int32(rank), sequence: Int32(outcomes.count)))
        }

        for (areaIndex, areaRange) in areaRanges.enumerated() {
            // gt '_ignore' (crowd or outside the area range), then gt sorted with ignored last (stable).
            gtIgnored.removeAll(keepingCapacity: true)
            gtOrder.removeAll(keepingCapacity: true)
            for g in gt {
                let ignored = input.gtCrowd[g] || areaRange.excludes(input.gtAreas[g])
                gtIgnored.append(ignored)
                if !ignored { gtOrder.append(g - gt.lowerBound) }
            }
            notIgnoredGroundTruth[areaIndex] += gtOrder.count
            for local in 0..<gtCount where gtIgnored[local] { gtOrder.append(local) }

            gtMatched.removeAll(keepingCapacity: true)
            gtMatched.append(contentsOf: repeatElement(false, count: thresholdCount * gtCount))
            for (thresholdIndex, threshold) in iouThresholds.enumerated() {
                let bit = UInt64(1) << UInt64(areaIndex * thresholdCount + thresholdIndex)
                let matchedRow = thresholdIndex * gtCount
                for d in 0..<detectionCount {
                    var best = min(threshold, 1 - 1e-10)
                    var match = -1
                    let iouRow = d * gtCount
                    for position in 0..<gtCount {
                        let local = gtOrder[position]
                        if gtMatched[matchedRow + position] && !input.gtCrowd[gt.lowerBound + local] { continue }
                        // Sorted order puts ignored gts last: once a real gt matched, stop at the first ignored one.
                        if match > -1 && !gtIgnored[gtOrder[match]] && gtIgnored[local] { break }
                        let iou = ious[iouRow + local]
                        if iou < best { continue }
                        best = iou
                        match = position
                    }
                    guard match != -1 else { continue }
                    let matchedLocal = gtOrder[match]
                    gtMatched[matchedRow + match] = true
                    if gtIgnored[matchedLocal] { outcomes[outcomeStart + d].ignored |= bit }
                    if input.gtIDIsNonZero[gt.lowerBound + matchedLocal] { outcomes[outcomeStart + d].matched |= bit }
                }
                // Unmatched detections outside the area range are ignored too.
                for d in 0..<detectionCount where outcomes[outcomeStart + d].matched & bit == 0 {
                    let box = input.dtBoxes[sortedDetections[d]]
                    if areaRange.excludes(box.width * box.height) { outcomes[outcomeStart + d].ignored |= bit }
                }
            }
        }
    }

    /// maskApi.c `bbIou`, same operations in the same order; a crowd's union is the detection's area.
    @inline(__always)
    static func boxIoU(detection d: COCOBox, groundTruth g: COCOBox, crowd: Bool) -> Double {
        let gtArea = g.width * g.height
        let detectionArea = d.width * d.height
        let w = min(d.width + d.x, g.width + g.x) - max(d.x, g.x)
        if w <= 0 { return 0 }
        let h = min(d.height + d.y, g.height + g.y) - max(d.y, g.y)
        if h <= 0 { return 0 }
        let intersection = w * h
        let union = crowd ? detectionArea : detectionArea + gtArea - intersection
        return intersection / union
    }

    // MARK: accumulate

    private mutating func accumulate(
        category: Int, notIgnoredGroundTruth: [Int], into output: CategoryEvaluationOutput
    ) {
        // All of this category's detections by descending score; ties in (image, rank) order,
        // which is the order they were appended in (np.argsort(-dtScores, kind='mergesort')).
        outcomes.sort { a, b in a.score > b.score || (a.score == b.score && a.sequence < b.sequence) }
        let shape = output.shape
        let thresholdCount = iouThresholds.count
        Self.resize(&cumulativeRecall, to: outcomes.count)
        Self.resize(&cumulativePrecision, to: outcomes.count)
        Self.resize(&sortedScores, to: outcomes.count)
        for (maxIndex, maxDetection) in maxDetections.enumerated() {
            // The detections this max-detections setting sees: each image's first `maxDetection`.
            kept.removeAll(keepingCapacity: true)
            for outcome in outcomes where Int(outcome.rankInImage) < maxDetection { kept.append(outcome) }
            for areaIndex in areaRanges.indices {
                // No non-ignored ground truth: the cell stays -1 (pycocotools `if npig == 0: continue`).
                let groundTruthCount = notIgnoredGroundTruth[areaIndex]
                if groundTruthCount == 0 { continue }
                for thresholdIndex in 0..<thresholdCount {
                    let bit = UInt64(1) << UInt64(areaIndex * thresholdCount + thresholdIndex)
                    let recallCell = shape.storageIndex(thresholdIndex, category, areaIndex, maxIndex)
                    let firstCell = recallCell * shape.recalls
                    kept.withUnsafeBufferPointer { kept in
                        cumulativeRecall.withUnsafeMutableBufferPointer { recall in
                            cumulativePrecision.withUnsafeMutableBufferPointer { precision in
                                sortedScores.withUnsafeMutableBufferPointer { scores in
                                    output.recall[recallCell] = Self.precisionAtRecallThresholds(
                                        kept, bit: bit, groundTruthCount: groundTruthCount,
                                        recall: recall, precision: precision, scores: scores,
                                        recallThresholds: recallThresholds,
                                        precisionOut: output.precision, scoresOut: output.scores,
                                        firstCell: firstCell)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reuses the scratch buffer's storage; the contents are overwritten before they are read.
    private static func resize(_ scratch: inout [Double], to count: Int) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: repeatElement(0, count: count))
    }

    /// One (area, max detections, IoU threshold) column of accumulate(): the cumulative precision /
    /// recall curve, its envelope, and the precision at each recall threshold written to
    /// `precisionOut[firstCell + r]`. Returns the final recall (0 without detections).
    private static func precisionAtRecallThresholds(
        _ detections: UnsafeBufferPointer<Outcome>, bit: UInt64, groundTruthCount: Int,
        recall: UnsafeMutableBufferPointer<Double>, precision: UnsafeMutableBufferPointer<Double>,
        scores: UnsafeMutableBufferPointer<Double>, recallThresholds: [Double],
        precisionOut: UnsafeMutableBufferPointer<Double>, scoresOut: UnsafeMutableBufferPointer<Double>,
        firstCell: Int
    ) -> Double {
        let npig = Double(groundTruthCount)
        var truePositives = 0
        var falsePositives = 0
        let count = detections.count
        for index in 0..<count {
            let outcome = detections[index]
            if outcome.ignored & bit == 0 {
                if outcome.matched & bit != 0 { truePositives += 1 } else { falsePositives += 1 }
            }
            let tp = Double(truePositives)
            recall[index] = tp / npig
            // numpy: tp / (fp + tp + np.spacing(1)), evaluated left to right.
            precision[index] = tp / (Double(falsePositives) + tp + Double.ulpOfOne)
            scores[index] = outcome.score
        }
        // Precision envelope: each precision becomes the best at any higher recall.
        var index = count - 1
        while index > 0 {
            if precision[index] > precision[index - 1] { precision[index - 1] = precision[index] }
            index -= 1
        }
        // np.searchsorted(rc, recThrs, side='left'); thresholds beyond the last recall get 0.
        var position = 0
        for (recallIndex, target) in recallThresholds.enumerated() {
            while position < count && recall[position] < target { position += 1 }
            let cell = firstCell + recallIndex
            precisionOut[cell] = position < count ? precision[position] : 0
            scoresOut[cell] = position < count ? scores[position] : 0
        }
        return count > 0 ? recall[count - 1] : 0
    }
}
