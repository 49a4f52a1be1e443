/// A box in normalised image coordinates (0...1), corner form.
public struct NormalizedBox: Sendable, Equatable {
    public var ymin: Float, xmin: Float, ymax: Float, xmax: Float

    public init(ymin: Float, xmin: Float, ymax: Float, xmax: Float) {
        self.ymin = ymin; self.xmin = xmin; self.ymax = ymax; self.xmax = xmax
    }

    public var area: Float { max(ymax - ymin, 0) * max(xmax - xmin, 0) }

    /// Intersection over union; 0 when either box is empty (as TFLite's post-process kernel).
    public func intersectionOverUnion(_ other: NormalizedBox) -> Float {
        let areaA = (ymax - ymin) * (xmax - xmin)
        let areaB = (other.ymax - other.ymin) * (other.xmax - other.xmin)
        if areaA <= 0 || areaB <= 0 { return 0 }
        let intersection = max(min(ymax, other.ymax) - max(ymin, other.ymin), 0)
            * max(min(xmax, other.xmax) - max(xmin, other.xmin), 0)
        return intersection / (areaA + areaB - intersection)
    }
}

/// One detected object, in pixels of the ORIGINAL image (before resizing to the model input).
public struct Detection: Sendable, Equatable, Codable {
    public var xmin: Double, ymin: Double, xmax: Double, ymax: Double
    /// COCO category id (1...90).
    public var categoryID: Int
    public var label: String
    public var score: Float

    public init(xmin: Double, ymin: Double, xmax: Double, ymax: Double, categoryID: Int, label: String, score: Float) {
        self.xmin = xmin; self.ymin = ymin; self.xmax = xmax; self.ymax = ymax
        self.categoryID = categoryID; self.label = label; self.score = score
    }

    enum CodingKeys: String, CodingKey {
        case xmin, ymin, xmax, ymax, label, score
        case categoryID = "category_id"
    }

    /// COCO's bbox: [x, y, width, height] in pixels.
    public var cocoBox: [Double] { [xmin, ymin, xmax - xmin, ymax - ymin] }

    /// Scales a normalised box to an image of `width` x `height` pixels (the whole image was resized
    /// to the model input, so normalised coordinates map directly). Not clipped to the image: the
    /// LiteRT reference numbers were computed without clipping (person fp32 AP 0.1711 unclipped,
    /// 0.1716 clipped on the shared subset), and TFLite_Detection_PostProcess does not clip either.
    public init(box: NormalizedBox, imageWidth: Int, imageHeight: Int, categoryID: Int, label: String, score: Float) {
        self.init(xmin: Double(box.xmin) * Double(imageWidth), ymin: Double(box.ymin) * Double(imageHeight),
                  xmax: Double(box.xmax) * Double(imageWidth), ymax: Double(box.ymax) * Double(imageHeight),
                  categoryID: categoryID, label: label, score: score)
    }
}
