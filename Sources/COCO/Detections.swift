import Foundation

/// One detection in COCO's results format: `{"image_id", "category_id", "bbox": [x,y,w,h], "score"}`.
public struct COCODetection: Equatable, Sendable {
    public var imageID: Int
    public var categoryID: Int
    public var bbox: COCOBox
    public var score: Double

    public init(imageID: Int, categoryID: Int, bbox: COCOBox, score: Double) {
        self.imageID = imageID
        self.categoryID = categoryID
        self.bbox = bbox
        self.score = score
    }
}

/// Reading and writing COCO results files (a JSON array of detections).
public enum COCOResultsFile {
    /// Loads a results file. Entries keep the file's order, which decides pycocotools' detection ids
    /// and so its tie-breaking between equal scores.
    public static func load(contentsOf path: String) throws -> [COCODetection] {
        let data = try COCOFile.read(path)
        return try data.withUnsafeBytes { raw in try parse(raw.bindMemory(to: UInt8.self), source: path) }
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, source: String) throws -> [COCODetection] {
        var scanner = JSONScanner(bytes: bytes, source: source)
        guard try scanner.peekKind(context: "top level") == .array else {
            throw COCOFormatError(file: source, message: "top level is not a JSON array of detections")
        }
        var detections: [COCODetection] = []
        try scanner.forEachElement(context: "results") { scanner, index in
            var imageID: Int?
            var categoryID: Int?
            var bbox: COCOBox?
            var score: Double?
            func entry() -> String { "[\(index)]" }
            try scanner.requireKind(.object, entry())
            try scanner.forEachMember(context: entry()) { scanner, key in
                switch key {
                case "image_id": imageID = try scanner.readIntegerField(entry(), key)
                case "category_id": categoryID = try scanner.readIntegerField(entry(), key)
                case "bbox": bbox = try scanner.readBoxField(entry(), key)
                case "score": score = try scanner.readNumberField(entry(), key)
                default: try scanner.skipValue(context: entry())
                }
            }
            guard let imageID else { throw scanner.missing("image_id", entry()) }
            guard let categoryID else { throw scanner.missing("category_id", entry()) }
            guard let bbox else { throw scanner.missing("bbox", entry()) }
            guard let score else { throw scanner.missing("score", entry()) }
            let detection = COCODetection(imageID: imageID, categoryID: categoryID, bbox: bbox, score: score)
            if let problem = detection.problem {
                throw COCOFormatError(file: source, message: "[\(index)]: \(problem)")
            }
            detections.append(detection)
        }
        try scanner.expectEnd()
        return detections
    }

    /// The results JSON for `detections`, one detection per line. Numbers are written in the shortest
    /// form that reads back as the same double, so pycocotools sees exactly what we evaluated.
    public static func encode(_ detections: [COCODetection]) throws -> String {
        var text = "["
        text.reserveCapacity(detections.count * 96 + 2)
        for (index, detection) in detections.enumerated() {
            if let problem = detection.problem {
                throw COCOFormatError(file: "detections", message: "[\(index)]: \(problem)")
            }
            let box = detection.bbox
            text += index == 0 ? "\n" : ",\n"
            text += "{\"image_id\": \(detection.imageID), \"category_id\": \(detection.categoryID), "
            text += "\"bbox\": [\(box.x), \(box.y), \(box.width), \(box.height)], \"score\": \(detection.score)}"
        }
        text += "\n]\n"
        return text
    }

    public static func write(_ detections: [COCODetection], to path: String) throws {
        let text = try encode(detections)
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw COCOFormatError(file: path, message: "cannot write file (\(error.localizedDescription))")
        }
    }
}

extension COCODetection {
    /// Why this detection cannot be evaluated, or nil when it can.
    var problem: String? {
        if let boxProblem = bbox.problem { return "bbox \(boxProblem)" }
        if !score.isFinite { return "score is \(score)" }
        return nil
    }
}
