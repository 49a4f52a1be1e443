import Foundation

/// Maps a model's class column to a COCO category id and a label.
public struct LabelMap: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var categoryID: Int
        public var name: String
    }

    /// Keyed by the class column of the model's score output (background column included).
    public var entries: [Int: Entry]

    public init(entries: [Int: Entry]) { self.entries = entries }

    public func entry(forColumn column: Int) -> Entry? { entries[column] }

    /// The layouts of label files we know.
    public enum FileLayout: String, Sendable, Codable {
        /// labelmap.txt: line i is COCO id i; "???" marks unused ids; line 0 is background.
        case cocoIDPerLine = "coco_id_per_line"
        /// labels_coco_dataset_80.txt: line 0 background, then the 80 names in COCO id order, so
        /// line i is the i-th of the standard 80 ids.
        case backgroundThenCOCO80 = "background_then_coco80"
    }

    /// Reads a label file. Column c of the model's scores maps to line c + `columnOffset`
    /// (1 for TFLite_Detection_PostProcess outputs, whose class index excludes background).
    public static func load(path: String, layout: FileLayout, columnOffset: Int = 0) throws -> LabelMap {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DetectorError.unreadableFile(path: path, reason: "label file cannot be read")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let trimmed = lines.last == "" ? Array(lines.dropLast()) : lines
        return try parse(lines: trimmed, layout: layout, columnOffset: columnOffset, path: path)
    }

    static func parse(lines: [String], layout: FileLayout, columnOffset: Int, path: String) throws -> LabelMap {
        var entries: [Int: Entry] = [:]
        switch layout {
        case .cocoIDPerLine:
            guard lines.count >= 2 else {
                throw DetectorError.unreadableFile(path: path, reason: "expected one label per COCO id, got \(lines.count) lines")
            }
            for (line, name) in lines.enumerated() where line >= 1 && name != "???" && !name.isEmpty {
                entries[line - columnOffset] = Entry(categoryID: line, name: name)
            }
        case .backgroundThenCOCO80:
            guard lines.count == COCOCategories.ids.count + 1 else {
                throw DetectorError.unreadableFile(path: path,
                    reason: "expected background plus \(COCOCategories.ids.count) names, got \(lines.count) lines")
            }
            for line in 1..<lines.count {
                entries[line - columnOffset] = Entry(categoryID: COCOCategories.ids[line - 1], name: lines[line])
            }
        }
        return LabelMap(entries: entries)
    }

    /// Class names per column (e.g. ["background", "person"]); each non-background name must be a
    /// COCO category name, which gives its id.
    public static func fromNames(_ names: [String], backgroundColumn: Int?, source: String) throws -> LabelMap {
        var entries: [Int: Entry] = [:]
        for (column, name) in names.enumerated() where column != backgroundColumn {
            guard let id = COCOCategories.id(named: name) else {
                throw DetectorError.invalidDescription(path: source, reason: "label \"\(name)\" is not a COCO category name")
            }
            entries[column] = Entry(categoryID: id, name: name)
        }
        return LabelMap(entries: entries)
    }
}
