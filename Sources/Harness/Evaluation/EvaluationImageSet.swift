import COCO
import Foundation

/// The images a detector is scored on: every image of a COCO annotation file that exists in a folder.
public struct EvaluationImageSet {
    public let annotationPath: String
    public let imagesDirectory: String
    public let groundTruth: COCOGroundTruth
    /// (COCO image id, path), in annotation-file order, at most `limit` of them.
    public let images: [(id: Int, path: String)]

    public struct MissingImages: Error, CustomStringConvertible {
        public let annotationPath: String
        public let imagesDirectory: String
        public let missing: [String]
        public var description: String {
            "\(missing.count) image(s) of \(annotationPath) are not in \(imagesDirectory): "
                + missing.prefix(5).joined(separator: ", ") + (missing.count > 5 ? ", …" : "")
        }
    }

    /// Loads the annotations and pairs each image entry with its file. Every listed image must exist
    /// (a missing one would silently lower recall); `limit` takes the first N in file order.
    public init(annotationPath: String, imagesDirectory: String, limit: Int? = nil) throws {
        self.annotationPath = annotationPath
        self.imagesDirectory = imagesDirectory
        groundTruth = try COCOGroundTruth.load(contentsOf: annotationPath)
        var pairs: [(Int, String)] = []
        var missing: [String] = []
        for image in groundTruth.images {
            let name = image.fileName ?? String(format: "%012d.jpg", image.id)
            let path = URL(fileURLWithPath: imagesDirectory).appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path) { pairs.append((image.id, path)) } else { missing.append(name) }
        }
        guard missing.isEmpty else {
            throw MissingImages(annotationPath: annotationPath, imagesDirectory: imagesDirectory, missing: missing)
        }
        if let limit { pairs = Array(pairs.prefix(max(limit, 0))) }
        images = pairs
    }

    /// The ground truth restricted to the chosen images, so a limited run is scored only on what it saw.
    public func groundTruthForChosenImages() throws -> COCOGroundTruth {
        guard images.count < groundTruth.images.count else { return groundTruth }
        let chosen = Set(images.map(\.id))
        return try COCOGroundTruth(
            images: groundTruth.images.filter { chosen.contains($0.id) },
            categories: groundTruth.categories,
            annotations: groundTruth.annotations.filter { chosen.contains($0.imageID) },
            source: annotationPath)
    }
}
