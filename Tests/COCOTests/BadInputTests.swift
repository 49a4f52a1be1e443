import COCO
import Foundation
import Testing

/// Every malformed input gives an error naming the file and the entry, never a crash.
@Suite struct BadInputTests {
    static let images = #""images": [{"id": 1}, {"id": 2}]"#
    static let categories = #""categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]"#

    func groundTruth(annotations: String) -> String {
        "{\(Self.images), \(Self.categories), \"annotations\": [\(annotations)]}"
    }

    static let goodAnnotation = #"{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 12, "iscrowd": 0}"#

    @Test(arguments: [
        (#"{"id": 12, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 12): bbox has 3 numbers, expected 4 (x, y, width, height)"),
        (#"{"id": 12, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "iscrowd": 0}"#,
         #"gt.json: annotations[1] (id 12): missing "area""#),
        (#"{"id": 12, "image_id": "1", "category_id": 1, "bbox": [1, 2, 3, 4], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 12): image_id is a string, expected a number"),
        (#"{"id": 12, "image_id": 1, "category_id": 1, "bbox": [1, "2", 3, 4], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 12): bbox[1] is a string, expected a number"),
        (#"{"id": 12, "image_id": 1, "category_id": 1, "bbox": {"x": 1}, "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 12): bbox is an object, expected an array"),
        (#"{"id": 12, "image_id": 9, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 12): image_id 9 is not in images"),
        (#"{"id": 12, "image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 12): category_id 2 is not in categories"),
        (#"{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 7): duplicate annotation id"),
        (#"{"id": 12, "image_id": 1, "category_id": 1, "bbox": [1, 2, -3, 4], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 12): bbox has a negative size (-3.0 x 4.0)"),
        (#"{"id": 12, "image_id": 1, "category_id": 1, "bbox": [NaN, 2, 3, 4], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1] (id 12): bbox x is nan"),
        (#"{"id": 12, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 3, "iscrowd": 2}"#,
         "gt.json: annotations[1] (id 12): iscrowd is 2, expected 0 or 1"),
        (#"{"id": 12.5, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 3, "iscrowd": 0}"#,
         "gt.json: annotations[1]: id is 12.5, not an integer"),
        (#"[1, 2]"#, "gt.json: annotations[1] is an array, expected an object"),
    ])
    func badAnnotationIsNamed(annotation: String, message: String) {
        let text = groundTruth(annotations: Self.goodAnnotation + ",\n" + annotation)
        #expect(formatErrorMessage { _ = try parseGroundTruth(text) } == message)
    }

    @Test func malformedJSONGivesLineAndColumn() {
        let text = groundTruth(annotations: Self.goodAnnotation + ",\n" + #"{"id": 12, "image_id": 1 "category_id": 1}"#)
        #expect(formatErrorMessage { _ = try parseGroundTruth(text) }
            == "gt.json: annotations[1] (id 12): expected ',' or '}' but found '\"' (line 2, column 26)")
        #expect(formatErrorMessage { _ = try parseGroundTruth("{\"images\": [{\"id\": 1}") }?
            .hasPrefix("gt.json: images: unexpected end of file") == true)
        #expect(formatErrorMessage { _ = try parseGroundTruth("") } == "gt.json: top level: unexpected end of file (line 1, column 1)")
        #expect(formatErrorMessage { _ = try parseGroundTruth(groundTruth(annotations: "") + " x") }?
            .hasPrefix("gt.json: unexpected 'x' after the end of the JSON value") == true)
    }

    @Test func missingSectionsAndDuplicatesAreNamed() {
        #expect(formatErrorMessage { _ = try parseGroundTruth("[]") }
            == "gt.json: top level is not a JSON object with images, annotations and categories")
        #expect(formatErrorMessage { _ = try parseGroundTruth("{\(Self.images), \(Self.categories)}") }
            == "gt.json: no \"annotations\" array")
        #expect(formatErrorMessage {
            _ = try parseGroundTruth(#"{"images": [{"id": 1}, {"id": 1}], "categories": [], "annotations": []}"#)
        } == "gt.json: images[1]: duplicate image id 1")
        #expect(formatErrorMessage {
            _ = try parseGroundTruth(#"{"images": [], "categories": [{"id": 4}], "annotations": []}"#)
        } == #"gt.json: categories[0] (id 4): missing "name""#)
    }

    /// Skipped values (segmentation polygons) are still checked, not just counted past.
    @Test func malformedNumberInSkippedPolygonIsNamed() {
        let annotation = #"{"id": 12, "image_id": 1, "segmentation": [[1.5, 2.]], "category_id": 1, "bbox": [1, 2, 3, 4], "area": 3, "iscrowd": 0}"#
        let text = groundTruth(annotations: annotation)
        #expect(formatErrorMessage { _ = try parseGroundTruth(text) }?
            .hasPrefix("gt.json: annotations[0] (id 12): malformed number (line 1,") == true)
        let unclosed = groundTruth(annotations: #"{"id": 12, "segmentation": [[1, 2], [3 4]]}"#)
        #expect(formatErrorMessage { _ = try parseGroundTruth(unclosed) }?
            .hasPrefix("gt.json: annotations[0] (id 12): expected ',' or ']' but found '4'") == true)
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        let message = formatErrorMessage { _ = try parseGroundTruth("{\"info\": \(deep)") }
        #expect(message?.hasPrefix("gt.json: info: values nested deeper than 512 levels") == true)
    }

    @Test func missingFileIsNamed() {
        let message = formatErrorMessage { _ = try COCOGroundTruth.load(contentsOf: "/nonexistent/gt.json") }
        #expect(message?.hasPrefix("/nonexistent/gt.json: cannot read file") == true)
    }

    @Test(arguments: [
        (#"[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": NaN}]"#, "dt.json: [0]: score is nan"),
        (#"[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 1}, {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, -4], "score": 0.5}]"#,
         "dt.json: [1]: bbox has a negative size (3.0 x -4.0)"),
        (#"[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}]"#, #"dt.json: [0]: missing "score""#),
        (#"[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4, 5], "score": 1}]"#,
         "dt.json: [0]: bbox has 5 numbers, expected 4 (x, y, width, height)"),
        (#"[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, Infinity], "score": 1}]"#, "dt.json: [0]: bbox height is inf"),
        (#"{"image_id": 1}"#, "dt.json: top level is not a JSON array of detections"),
        (#"[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 1},]"#,
         "dt.json: [1]: unexpected character ']' (line 1, column 70)"),
    ])
    func badDetectionIsNamed(text: String, message: String) {
        #expect(formatErrorMessage { _ = try parseResults(text) } == message)
    }

    @Test func detectionOfUnknownImageOrCategoryIsNamed() throws {
        let gt = try parseGroundTruth(groundTruth(annotations: Self.goodAnnotation))
        let box = COCOBox(x: 1, y: 2, width: 3, height: 4)
        let unknownImage = [COCODetection(imageID: 1, categoryID: 1, bbox: box, score: 1),
                            COCODetection(imageID: 5, categoryID: 1, bbox: box, score: 1)]
        #expect(formatErrorMessage {
            _ = try COCOBoxEvaluator.evaluate(groundTruth: gt, detections: unknownImage, detectionsSource: "dt.json")
        } == "dt.json: [1]: image_id 5 is not an image of the ground truth")
        let unknownCategory = [COCODetection(imageID: 2, categoryID: 2, bbox: box, score: 1)]
        #expect(formatErrorMessage {
            _ = try COCOBoxEvaluator.evaluate(groundTruth: gt, detections: unknownCategory, detectionsSource: "dt.json")
        } == "dt.json: [0]: category_id 2 is not a category of the ground truth")
    }
}
