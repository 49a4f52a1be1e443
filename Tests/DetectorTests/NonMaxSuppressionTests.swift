import Testing
@testable import Detector

@Suite struct NonMaxSuppressionTests {
    static let a = NormalizedBox(ymin: 0, xmin: 0, ymax: 1, xmax: 1)
    /// Shifted right by a quarter of its width: intersection 0.75, union 1.25, IoU 0.6.
    static let b = NormalizedBox(ymin: 0, xmin: 0.25, ymax: 1, xmax: 1.25)  // IoU 0.75/1.25 = 0.6
    static let far = NormalizedBox(ymin: 0, xmin: 5, ymax: 1, xmax: 6)

    @Test func iouByHand() {
        #expect(abs(Self.a.intersectionOverUnion(Self.b) - 0.6) < 1e-7)
        #expect(Self.a.intersectionOverUnion(Self.far) == 0)
        #expect(Self.a.intersectionOverUnion(NormalizedBox(ymin: 0, xmin: 0, ymax: 0, xmax: 1)) == 0)
    }

    @Test func iouAtThresholdIsKeptAboveIsSuppressed() {
        let iou = Self.a.intersectionOverUnion(Self.b)
        let scores: [Float] = [0, 0.9, 0, 0.8]
        let atThreshold = NonMaxSuppression(iouThreshold: iou).run(boxes: [Self.a, Self.b], scores: scores, columns: 2, backgroundColumn: 0)
        #expect(atThreshold.count == 2)
        let below = NonMaxSuppression(iouThreshold: iou.nextDown).run(boxes: [Self.a, Self.b], scores: scores, columns: 2, backgroundColumn: 0)
        #expect(below.map(\.anchor) == [0])
    }

    @Test func tiesGoToLowerAnchorAndScoreThresholdIsStrict() {
        let boxes = [Self.a, Self.b, Self.far]
        // Anchors 0 and 1 overlap (IoU 0.6 > 0.5) and tie at 0.7: anchor 0 wins. Anchor 2 has exactly 0.05: dropped.
        let kept = NonMaxSuppression(iouThreshold: 0.5).run(boxes: boxes, scores: [0, 0.7, 0, 0.7, 0, 0.05], columns: 2, backgroundColumn: 0)
        #expect(kept.map(\.anchor) == [0])
    }

    @Test func classAwareAndBestClassPerAnchor() {
        // Columns: background, c1, c2. Anchor 0 best c1 (0.9), anchor 1 best c2 (0.8): overlapping but
        // different classes, both kept. With everyClass, anchor 1's c1 (0.6) is suppressed by anchor 0's c1,
        // and anchor 0's c2 (0.3) is suppressed by anchor 1's c2.
        let scores: [Float] = [0.1, 0.9, 0.3, 0.1, 0.6, 0.8]
        let best = NonMaxSuppression(iouThreshold: 0.5).run(boxes: [Self.a, Self.b], scores: scores, columns: 3, backgroundColumn: 0)
        #expect(best.map(\.classIndex) == [1, 2] && best.map(\.anchor) == [0, 1])
        let every = NonMaxSuppression(iouThreshold: 0.5, candidates: .everyClass)
            .run(boxes: [Self.a, Self.b], scores: scores, columns: 3, backgroundColumn: 0)
        #expect(every.map(\.classIndex) == [1, 2] && every.map(\.score) == [0.9, 0.8])
    }

    @Test func backgroundNeverProposesAndTopKCaps() {
        let boxes = (0..<5).map { NormalizedBox(ymin: 0, xmin: Float($0) * 2, ymax: 1, xmax: Float($0) * 2 + 1) }
        let scores = (0..<5).flatMap { [Float(0.99), Float(0.1) * Float($0 + 1)] }
        let kept = NonMaxSuppression(iouThreshold: 0.5, maxDetections: 3).run(boxes: boxes, scores: scores, columns: 2, backgroundColumn: 0)
        #expect(kept.map(\.anchor) == [4, 3, 2])
        #expect(kept.allSatisfy { $0.classIndex == 1 })
    }
}
