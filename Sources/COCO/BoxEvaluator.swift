import Dispatch
import Foundation

/// COCO box evaluation that reproduces pycocotools' `COCOeval(gt, dt, 'bbox')` evaluate() +
/// accumulate() bit for bit: same IoU arithmetic (maskApi.c bbIou), same stable orderings, same greedy
/// matching, same precision envelope and recall-threshold lookup.
///
/// Work is split by category (categories are independent in COCOeval), across `workerCount` threads;
/// each category's numbers are computed by one thread in a fixed order, so results do not depend on
/// scheduling.
public enum COCOBoxEvaluator {
    public static func evaluate(
        groundTruth: COCOGroundTruth,
        detections: [COCODetection],
        detectionsSource: String = "detections",
        workerCount: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> COCOEvaluation {
        let imageIDs = Array(Set(groundTruth.images.map(\.id))).sorted()
        let categoryIDs = Array(Set(groundTruth.categories.map(\.id))).sorted()
        var imageIndex = [Int: Int32](minimumCapacity: imageIDs.count)
        for (index, id) in imageIDs.enumerated() { imageIndex[id] = Int32(index) }
        var categoryIndex = [Int: Int32](minimumCapacity: categoryIDs.count)
        for (index, id) in categoryIDs.enumerated() { categoryIndex[id] = Int32(index) }

        // Ground truth grouped by (category, image), file order within a group.
        var gtImage = [Int32](repeating: 0, count: groundTruth.annotations.count)
        var gtCategory = [Int32](repeating: 0, count: groundTruth.annotations.count)
        for (index, annotation) in groundTruth.annotations.enumerated() {
            // COCOGroundTruth's initializer guarantees both ids are known.
            gtImage[index] = imageIndex[annotation.imageID]!
            gtCategory[index] = categoryIndex[annotation.categoryID]!
        }
        // Detections: pycocotools' loadRes asserts every image is known and silently drops unknown
        // categories; both are mistakes in a results file, so both are errors here.
        var dtImage = [Int32](repeating: 0, count: detections.count)
        var dtCategory = [Int32](repeating: 0, count: detections.count)
        for (index, detection) in detections.enumerated() {
            guard let image = imageIndex[detection.imageID] else {
                throw COCOFormatError(
                    file: detectionsSource,
                    message: "[\(index)]: image_id \(detection.imageID) is not an image of the ground truth")
            }
            guard let category = categoryIndex[detection.categoryID] else {
                throw COCOFormatError(
                    file: detectionsSource,
                    message: "[\(index)]: category_id \(detection.categoryID) is not a category of the ground truth")
            }
            if let problem = detection.problem {
                throw COCOFormatError(file: detectionsSource, message: "[\(index)]: \(problem)")
            }
            dtImage[index] = image
            dtCategory[index] = category
        }
        let gtGroups = GroupedOrder(primary: gtCategory, primaryCount: categoryIDs.count,
                                    secondary: gtImage, secondaryCount: imageIDs.count)
        let dtGroups = GroupedOrder(primary: dtCategory, primaryCount: categoryIDs.count,
                                    secondary: dtImage, secondaryCount: imageIDs.count)
        let input = CategoryEvaluationInput(
            gtBoxes: gtGroups.order.map { groundTruth.annotations[Int($0)].bbox },
            gtAreas: gtGroups.order.map { groundTruth.annotations[Int($0)].area },
            gtCrowd: gtGroups.order.map { groundTruth.annotations[Int($0)].isCrowd },
            gtIDIsNonZero: gtGroups.order.map { groundTruth.annotations[Int($0)].id != 0 },
            gtImage: gtGroups.order.map { gtImage[Int($0)] },
            gtCategoryStarts: gtGroups.primaryStarts,
            dtBoxes: dtGroups.order.map { detections[Int($0)].bbox },
            dtScores: dtGroups.order.map { detections[Int($0)].score },
            dtImage: dtGroups.order.map { dtImage[Int($0)] },
            dtCategoryStarts: dtGroups.primaryStarts
        )

        let shape = COCOEvaluation.Shape(categories: categoryIDs.count)
        var precision = [Double](repeating: -1, count: shape.precisionCount)
        var recall = [Double](repeating: -1, count: shape.recallCount)
        var scores = [Double](repeating: -1, count: shape.precisionCount)
        let workers = max(1, min(workerCount, categoryIDs.count))
        precision.withUnsafeMutableBufferPointer { precisionOut in
            recall.withUnsafeMutableBufferPointer { recallOut in
                scores.withUnsafeMutableBufferPointer { scoresOut in
                    let output = CategoryEvaluationOutput(
                        shape: shape, precision: precisionOut, recall: recallOut, scores: scoresOut)
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        var evaluator = CategoryEvaluator(input: input)
                        // Interleaved so big and small categories spread over the workers.
                        for category in stride(from: worker, to: categoryIDs.count, by: workers) {
                            evaluator.evaluate(category: category, into: output)
                        }
                    }
                }
            }
        }
        return COCOEvaluation(
            imageIDs: imageIDs, categoryIDs: categoryIDs, precision: precision, scores: scores, recall: recall)
    }
}

/// Indices ordered by (primary, secondary), ties kept in input order: two stable counting sorts.
struct GroupedOrder {
    let order: [Int32]
    /// `order[primaryStarts[k]..<primaryStarts[k + 1]]` are the entries with primary key k.
    let primaryStarts: [Int]

    init(primary: [Int32], primaryCount: Int, secondary: [Int32], secondaryCount: Int) {
        let bySecondary = Self.countingSort(Array(0..<Int32(primary.count)), keys: secondary, keyCount: secondaryCount).order
        let (order, starts) = Self.countingSort(bySecondary, keys: primary, keyCount: primaryCount)
        self.order = order
        self.primaryStarts = starts
    }

    private static func countingSort(_ items: [Int32], keys: [Int32], keyCount: Int) -> (order: [Int32], starts: [Int]) {
        var starts = [Int](repeating: 0, count: keyCount + 1)
        for item in items { starts[Int(keys[Int(item)]) + 1] += 1 }
        for key in 0..<keyCount { starts[key + 1] += starts[key] }
        var next = starts
        var order = [Int32](repeating: 0, count: items.count)
        for item in items {
            let key = Int(keys[Int(item)])
            order[next[key]] = item
            next[key] += 1
        }
        return (order, starts)
    }
}

/// Ground truth and detections laid out by (category, image) so each category's data is contiguous.
struct CategoryEvaluationInput: @unchecked Sendable {
    let gtBoxes: [COCOBox]
    let gtAreas: [Double]
    let gtCrowd: [Bool]
    /// pycocotools stores the matched gt id in dtMatches and treats 0 as "unmatched".
    let gtIDIsNonZero: [Bool]
    let gtImage: [Int32]
    let gtCategoryStarts: [Int]
    let dtBoxes: [COCOBox]
    let dtScores: [Double]
    let dtImage: [Int32]
    let dtCategoryStarts: [Int]
}

/// Disjoint per-category slices of the result arrays, written from several threads.
struct CategoryEvaluationOutput: @unchecked Sendable {
    let shape: COCOEvaluation.Shape
    let precision: UnsafeMutableBufferPointer<Double>
    let recall: UnsafeMutableBufferPointer<Double>
    let scores: UnsafeMutableBufferPointer<Double>
}
