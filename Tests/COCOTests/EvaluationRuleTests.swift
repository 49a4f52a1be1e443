import COCO
import Testing

/// Small cases whose expected numbers follow by hand from pycocotools' rules.
/// Precision is tp / (tp + fp + eps) there, so a perfect detector scores 1 - 2e-16, not 1: `near`.
@Suite struct EvaluationRuleTests {
    func near(_ value: Double, _ expected: Double) -> Bool { abs(value - expected) <= 1e-12 }

    static let images = [COCOImage(id: 1)]
    static let categories = [COCOCategory(id: 1, name: "thing")]

    func box(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> COCOBox { COCOBox(x: x, y: y, width: w, height: h) }

    func gt(_ id: Int, _ bbox: COCOBox, crowd: Bool = false) -> COCOAnnotation {
        COCOAnnotation(id: id, imageID: 1, categoryID: 1, bbox: bbox, area: bbox.width * bbox.height, isCrowd: crowd)
    }

    func dt(_ bbox: COCOBox, _ score: Double) -> COCODetection {
        COCODetection(imageID: 1, categoryID: 1, bbox: bbox, score: score)
    }

    func stats(_ annotations: [COCOAnnotation], _ detections: [COCODetection]) throws -> [Double] {
        let groundTruth = try COCOGroundTruth(images: Self.images, categories: Self.categories, annotations: annotations)
        return try COCOBoxEvaluator.evaluate(groundTruth: groundTruth, detections: detections).summary.stats
    }

    @Test func perfectDetectionOfALargeObject() throws {
        let s = try stats([gt(1, box(10, 10, 100, 100))], [dt(box(10, 10, 100, 100), 0.9)])
        #expect(near(s[0], 1) && near(s[1], 1) && near(s[2], 1))
        #expect(s[3] == -1 && s[4] == -1 && near(s[5], 1))  // no small or medium ground truth
        #expect(s[6] == 1 && s[8] == 1)
    }

    /// A miss ranked above the hit: precisions [0, 1/2], recalls [0, 1]; the envelope lifts the
    /// first to 1/2, so every recall threshold reads 1/2.
    @Test func higherScoredFalsePositiveHalvesAP() throws {
        let s = try stats([gt(1, box(10, 10, 100, 100))],
                          [dt(box(300, 300, 50, 50), 0.9), dt(box(10, 10, 100, 100), 0.8)])
        #expect(s[0] == 0.5)
        #expect(s[8] == 1)
    }

    /// A detection inside a crowd region matches it (IoU = intersection / detection area) and is
    /// ignored instead of counting as a false positive.
    @Test func detectionInCrowdRegionIsIgnored() throws {
        let detections = [dt(box(400, 400, 20, 20), 0.9), dt(box(10, 10, 100, 100), 0.8)]
        let crowd = try stats([gt(1, box(10, 10, 100, 100)), gt(2, box(300, 300, 300, 300), crowd: true)], detections)
        #expect(near(crowd[0], 1))
        let notCrowd = try stats([gt(1, box(10, 10, 100, 100)), gt(2, box(300, 300, 300, 300))], detections)
        #expect(notCrowd[0] < 1)
    }

    /// Equal scores keep file order (a stable sort): the first in the file is ranked first.
    @Test func scoreTiesKeepFileOrder() throws {
        let hit = dt(box(10, 10, 100, 100), 0.5)
        let miss = dt(box(300, 300, 50, 50), 0.5)
        #expect(try stats([gt(1, box(10, 10, 100, 100))], [miss, hit])[0] == 0.5)
        #expect(near(try stats([gt(1, box(10, 10, 100, 100))], [hit, miss])[0], 1))
    }

    /// AR@1 sees only the best-scored detection of each image.
    @Test func maxDetectionsCapsPerImage() throws {
        let s = try stats([gt(1, box(0, 0, 100, 100)), gt(2, box(200, 200, 100, 100))],
                          [dt(box(0, 0, 100, 100), 0.9), dt(box(200, 200, 100, 100), 0.8)])
        #expect(s[6] == 0.5)
        #expect(s[7] == 1)
    }

    /// Area bounds are inclusive on both sides: a 32x32 object is both small and medium.
    @Test func areaOnTheBoundIsSmallAndMedium() throws {
        let s = try stats([gt(1, box(0, 0, 32, 32))], [dt(box(0, 0, 32, 32), 0.9)])
        #expect(near(s[3], 1) && near(s[4], 1) && s[5] == -1)
    }

    @Test func noDetectionsGivesZeroNotMinusOne() throws {
        let s = try stats([gt(1, box(0, 0, 50, 50))], [])
        #expect(s[0] == 0 && s[8] == 0)
        #expect(s[3] == -1)
    }
}
