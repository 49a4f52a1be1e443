import COCO
import Foundation
import Testing

@Suite struct ReportTests {
    @Test func jsonReportHasStatsByPositionAndNameAndPerCategoryAP() throws {
        let gt = try COCOGroundTruth(
            images: [COCOImage(id: 1)],
            categories: [COCOCategory(id: 1, name: "person"), COCOCategory(id: 5, name: "air\"plane")],
            annotations: [COCOAnnotation(id: 1, imageID: 1, categoryID: 1, bbox: COCOBox(x: 0, y: 0, width: 50, height: 50),
                                         area: 2500, isCrowd: false)])
        let detections = [COCODetection(imageID: 1, categoryID: 1, bbox: COCOBox(x: 200, y: 0, width: 50, height: 50), score: 0.9),
                          COCODetection(imageID: 1, categoryID: 1, bbox: COCOBox(x: 0, y: 0, width: 50, height: 50), score: 0.8)]
        let evaluation = try COCOBoxEvaluator.evaluate(groundTruth: gt, detections: detections)
        let text = evaluation.jsonReport(categoryNames: [1: "person", 5: "air\"plane"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let stats = try #require(object["stats"] as? [Double])
        #expect(stats.count == 12)
        // A miss above the hit: AP 1/2 by hand (see EvaluationRuleTests); medium object, so APs = -1.
        #expect(object["AP"] as? Double == 0.5)
        #expect(object["APs"] as? Double == -1)
        #expect(object["AR100"] as? Double == 1)
        let categories = try #require(object["categories"] as? [[String: Any]])
        #expect(categories.count == 2)
        #expect(categories[0]["name"] as? String == "person")
        #expect(categories[0]["AP"] as? Double == 0.5)
        #expect(categories[1]["name"] as? String == "air\"plane")
        #expect(categories[1]["AP"] as? Double == -1)  // no ground truth
    }
}
