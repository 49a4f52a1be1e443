import Foundation

extension COCOGroundTruth {
    /// Loads an instances file (images, annotations, categories). `segmentation`, `info`, `licenses`
    /// and unknown keys are skipped without being built.
    public static func load(contentsOf path: String) throws -> COCOGroundTruth {
        let data = try COCOFile.read(path)
        return try data.withUnsafeBytes { raw in
            try parse(raw.bindMemory(to: UInt8.self), source: path)
        }
    }

    /// Parses the text of an instances file; `source` names it in errors.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, source: String) throws -> COCOGroundTruth {
        var scanner = JSONScanner(bytes: bytes, source: source)
        var images: [COCOImage]?
        var categories: [COCOCategory]?
        var annotations: [COCOAnnotation]?
        guard try scanner.peekKind(context: "top level") == .object else {
            throw COCOFormatError(file: source, message: "top level is not a JSON object with images, annotations and categories")
        }
        try scanner.forEachMember(context: "top level") { scanner, key in
            switch key {
            case "images": images = try parseImages(&scanner)
            case "annotations": annotations = try parseAnnotations(&scanner)
            case "categories": categories = try parseCategories(&scanner)
            default: try scanner.skipValue(context: key)
            }
        }
        try scanner.expectEnd()
        guard let images else { throw COCOFormatError(file: source, message: "no \"images\" array") }
        guard let annotations else { throw COCOFormatError(file: source, message: "no \"annotations\" array") }
        guard let categories else { throw COCOFormatError(file: source, message: "no \"categories\" array") }
        return try COCOGroundTruth(images: images, categories: categories, annotations: annotations, source: source)
    }

    private static func parseImages(_ scanner: inout JSONScanner) throws -> [COCOImage] {
        try scanner.requireKind(.array, "images")
        var images: [COCOImage] = []
        try scanner.forEachElement(context: "images") { scanner, index in
            var id: Int?
            var image = COCOImage(id: 0)
            func entry() -> String { id.map { "images[\(index)] (id \($0))" } ?? "images[\(index)]" }
            try scanner.requireKind(.object, entry())
            try scanner.forEachMember(context: entry()) { scanner, key in
                switch key {
                case "id": id = try scanner.readIntegerField(entry(), key)
                case "file_name": image.fileName = try scanner.readStringField(entry(), key)
                case "width": image.width = try scanner.readIntegerField(entry(), key)
                case "height": image.height = try scanner.readIntegerField(entry(), key)
                default: try scanner.skipValue(context: entry())
                }
            }
            guard let id else { throw scanner.missing("id", entry()) }
            image.id = id
            images.append(image)
        }
        return images
    }

    private static func parseCategories(_ scanner: inout JSONScanner) throws -> [COCOCategory] {
        try scanner.requireKind(.array, "categories")
        var categories: [COCOCategory] = []
        try scanner.forEachElement(context: "categories") { scanner, index in
            var id: Int?
            var name: String?
            var supercategory: String?
            func entry() -> String { id.map { "categories[\(index)] (id \($0))" } ?? "categories[\(index)]" }
            try scanner.requireKind(.object, entry())
            try scanner.forEachMember(context: entry()) { scanner, key in
                switch key {
                case "id": id = try scanner.readIntegerField(entry(), key)
                case "name": name = try scanner.readStringField(entry(), key)
                case "supercategory": supercategory = try scanner.readStringField(entry(), key)
                default: try scanner.skipValue(context: entry())
                }
            }
            guard let id else { throw scanner.missing("id", entry()) }
            guard let name else { throw scanner.missing("name", entry()) }
            categories.append(COCOCategory(id: id, name: name, supercategory: supercategory))
        }
        return categories
    }

    private static func parseAnnotations(_ scanner: inout JSONScanner) throws -> [COCOAnnotation] {
        try scanner.requireKind(.array, "annotations")
        var annotations: [COCOAnnotation] = []
        try scanner.forEachElement(context: "annotations") { scanner, index in
            var id: Int?
            var imageID: Int?
            var categoryID: Int?
            var bbox: COCOBox?
            var area: Double?
            var isCrowd: Bool?
            func entry() -> String { id.map { "annotations[\(index)] (id \($0))" } ?? "annotations[\(index)]" }
            try scanner.requireKind(.object, entry())
            try scanner.forEachMember(context: entry()) { scanner, key in
                switch key {
                case "segmentation": try scanner.skipValue(context: entry())
                case "id": id = try scanner.readIntegerField(entry(), key)
                case "image_id": imageID = try scanner.readIntegerField(entry(), key)
                case "category_id": categoryID = try scanner.readIntegerField(entry(), key)
                case "bbox": bbox = try scanner.readBoxField(entry(), key)
                case "area": area = try scanner.readNumberField(entry(), key)
                case "iscrowd": isCrowd = try scanner.readFlagField(entry(), key)
                default: try scanner.skipValue(context: entry())
                }
            }
            guard let id else { throw scanner.missing("id", entry()) }
            guard let imageID else { throw scanner.missing("image_id", entry()) }
            guard let categoryID else { throw scanner.missing("category_id", entry()) }
            guard let bbox else { throw scanner.missing("bbox", entry()) }
            guard let area else { throw scanner.missing("area", entry()) }
            guard let isCrowd else { throw scanner.missing("iscrowd", entry()) }
            annotations.append(
                COCOAnnotation(id: id, imageID: imageID, categoryID: categoryID, bbox: bbox, area: area, isCrowd: isCrowd))
        }
        return annotations
    }
}

/// Reading a whole file with an error that names it.
enum COCOFile {
    static func read(_ path: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw COCOFormatError(file: path, message: "cannot read file (\(error.localizedDescription))")
        }
    }
}
