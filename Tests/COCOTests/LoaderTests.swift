import COCO
import DataLocation
import Foundation
import Testing

@Suite struct LoaderTests {
    /// Counts and entries as Python's json module reads the same file.
    @Test func loadsTheVal2017Subset() throws {
        let dir = try DataDirectory.locate(callerFile: #filePath)
        let gt = try COCOGroundTruth.load(
            contentsOf: try dir.requireFile("data/coco-val2017-subset/instances_val2017_subset.json"))
        #expect(gt.images.count == 206)
        #expect(gt.annotations.count == 1786)
        #expect(gt.categories.count == 80)
        #expect(gt.annotations.filter(\.isCrowd).count == 21)
        #expect(gt.annotations.first == COCOAnnotation(
            id: 3253, imageID: 22192, categoryID: 18,
            bbox: COCOBox(x: 71.57, y: 120.67, width: 144.02, height: 255.26), area: 22775.394549999994, isCrowd: false))
        #expect(gt.annotations.last == COCOAnnotation(
            id: 908400553664, imageID: 553664, categoryID: 84,
            bbox: COCOBox(x: 97, y: 0, width: 542, height: 292), area: 65075, isCrowd: true))
        #expect(gt.images.first == COCOImage(id: 139, fileName: "000000000139.jpg", width: 640, height: 426))
        #expect(gt.categories.last == COCOCategory(id: 90, name: "toothbrush", supercategory: "indoor"))
    }

    /// Numbers must be the nearest double, as Python's float() gives, on both the fast and slow paths.
    @Test func numbersAreCorrectlyRounded() throws {
        let literals = ["0", "-0.0", "0.1", "1e2", "2.5E-3", "123456789.123456789123", "9007199254740993",
                        "1.7976931348623157e308", "5e-324", "0.30000000000000004", "1234567890123456789012"]
        for literal in literals {
            let gt = try parseGroundTruth("""
                {"images":[{"id":1}],"categories":[{"id":1,"name":"a"}],
                 "annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[\(literal),0,1,1],"area":1,"iscrowd":0}]}
                """)
            let expected = try #require(Double(literal))
            #expect(gt.annotations[0].bbox.x.bitPattern == expected.bitPattern, "\(literal)")
        }
    }

    @Test func skipsSegmentationsEscapesAndUnknownKeys() throws {
        let gt = try parseGroundTruth(#"""
            {"info": {"nested": [1, {"a": [true, false, null]}], "s": "x\"]}"},
             "images": [{"id": 5, "file_name": "a b.jpg", "coco_url": "http://x/y"}],
             "categories": [{"id": 3, "name": "caf\u00e9 \"q\" \ud83d\ude00", "supercategory": "s"}],
             "annotations": [
               {"segmentation": [[1.5, 2, 3e1, 4], [5, 6]], "id": 10, "image_id": 5, "category_id": 3,
                "bbox": [1, 2, 3, 4], "area": 12.5, "iscrowd": 0},
               {"segmentation": {"counts": [0, 5, 10], "size": [20, 30]}, "id": 11, "image_id": 5,
                "category_id": 3, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": true},
               {"segmentation": {"counts": "Xb0a1\\]}", "size": [20, 30]}, "id": 12, "image_id": 5,
                "category_id": 3, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 1}
             ]}
            """#)
        #expect(gt.categories[0].name == "café \"q\" 😀")
        #expect(gt.images[0].fileName == "a b.jpg")
        #expect(gt.annotations.map(\.id) == [10, 11, 12])
        #expect(gt.annotations.map(\.isCrowd) == [false, true, true])
        #expect(gt.annotations[0].area == 12.5)
    }

    /// What we write, we read back as the same doubles.
    @Test func resultsRoundTrip() throws {
        let detections = [
            COCODetection(imageID: 1, categoryID: 18, bbox: COCOBox(x: 0.1 + 0.2, y: 1e-7, width: 123456.789, height: 5),
                          score: 0.30000001192092896),
            COCODetection(imageID: 42, categoryID: 1, bbox: COCOBox(x: 0, y: 0, width: 0, height: 1e20), score: -0.0),
        ]
        let text = try COCOResultsFile.encode(detections)
        let parsed = try parseResults(text)
        #expect(parsed == detections)
        #expect(parsed[1].score.sign == .minus)
        // And it is valid JSON for other readers.
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]
        #expect(object?.count == 2)
    }

    @Test func writingRejectsNonFiniteDetections() {
        let bad = [COCODetection(imageID: 1, categoryID: 1, bbox: COCOBox(x: 0, y: 0, width: 1, height: 1), score: .nan)]
        #expect(formatErrorMessage { _ = try COCOResultsFile.encode(bad) } == "detections: [0]: score is nan")
    }
}
