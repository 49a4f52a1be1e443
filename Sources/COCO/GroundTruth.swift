/// A box in COCO's convention: top-left corner, width and height, in pixels of the original image.
public struct COCOBox: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

public struct COCOImage: Equatable, Sendable {
    public var id: Int
    /// Optional in the format; the evaluator does not need them, the detector does.
    public var fileName: String?
    public var width: Int?
    public var height: Int?

    public init(id: Int, fileName: String? = nil, width: Int? = nil, height: Int? = nil) {
        self.id = id
        self.fileName = fileName
        self.width = width
        self.height = height
    }
}

public struct COCOCategory: Equatable, Sendable {
    public var id: Int
    public var name: String
    public var supercategory: String?

    public init(id: Int, name: String, supercategory: String? = nil) {
        self.id = id
        self.name = name
        self.supercategory = supercategory
    }
}

/// One ground-truth object. `area` is the file's own value (the segmentation's area in real COCO,
/// not width*height), which is what pycocotools compares against the area ranges.
public struct COCOAnnotation: Equatable, Sendable {
    public var id: Int
    public var imageID: Int
    public var categoryID: Int
    public var bbox: COCOBox
    public var area: Double
    public var isCrowd: Bool

    public init(id: Int, imageID: Int, categoryID: Int, bbox: COCOBox, area: Double, isCrowd: Bool) {
        self.id = id
        self.imageID = imageID
        self.categoryID = categoryID
        self.bbox = bbox
        self.area = area
        self.isCrowd = isCrowd
    }
}

/// A COCO instances file (e.g. instances_val2017.json) as the box evaluator needs it.
/// Annotations keep the file's order: pycocotools' stable sorts depend on it.
public struct COCOGroundTruth: Sendable {
    // Constants: the initializer's checks are what make evaluation safe.
    public let images: [COCOImage]
    public let categories: [COCOCategory]
    public let annotations: [COCOAnnotation]

    /// Checks what a file can get wrong beyond syntax: duplicate ids, references to unknown images or
    /// categories, non-finite or negative boxes. `source` names the file in errors.
    public init(
        images: [COCOImage], categories: [COCOCategory], annotations: [COCOAnnotation], source: String = "ground truth"
    ) throws {
        var imageIDs = Set<Int>(minimumCapacity: images.count)
        for (index, image) in images.enumerated() where !imageIDs.insert(image.id).inserted {
            throw COCOFormatError(file: source, message: "images[\(index)]: duplicate image id \(image.id)")
        }
        var categoryIDs = Set<Int>(minimumCapacity: categories.count)
        for (index, category) in categories.enumerated() where !categoryIDs.insert(category.id).inserted {
            throw COCOFormatError(file: source, message: "categories[\(index)]: duplicate category id \(category.id)")
        }
        var annotationIDs = Set<Int>(minimumCapacity: annotations.count)
        for (index, annotation) in annotations.enumerated() {
            let entry = "annotations[\(index)] (id \(annotation.id))"
            // pycocotools indexes annotations by id, so a repeated id silently replaces the first one.
            guard annotationIDs.insert(annotation.id).inserted else {
                throw COCOFormatError(file: source, message: "\(entry): duplicate annotation id")
            }
            guard imageIDs.contains(annotation.imageID) else {
                throw COCOFormatError(file: source, message: "\(entry): image_id \(annotation.imageID) is not in images")
            }
            guard categoryIDs.contains(annotation.categoryID) else {
                throw COCOFormatError(
                    file: source, message: "\(entry): category_id \(annotation.categoryID) is not in categories")
            }
            if let problem = annotation.bbox.problem {
                throw COCOFormatError(file: source, message: "\(entry): bbox \(problem)")
            }
            guard annotation.area.isFinite, annotation.area >= 0 else {
                throw COCOFormatError(file: source, message: "\(entry): area \(annotation.area) is not a finite non-negative number")
            }
        }
        self.images = images
        self.categories = categories
        self.annotations = annotations
    }
}

extension COCOBox {
    /// Why this box cannot be evaluated, or nil when it can.
    var problem: String? {
        if !x.isFinite { return "x is \(x)" }
        if !y.isFinite { return "y is \(y)" }
        if !width.isFinite { return "width is \(width)" }
        if !height.isFinite { return "height is \(height)" }
        if width < 0 || height < 0 { return "has a negative size (\(width) x \(height))" }
        return nil
    }
}
