import Foundation

/// What the graph of an SSD model cannot say: how to turn its outputs into COCO detections.
public struct ModelDescription: Sendable, Equatable {
    public enum Outputs: Sendable, Equatable {
        /// The graph ends in TFLite_Detection_PostProcess: boxes, classes (no background), scores, count.
        case postProcessed
        /// Raw box encodings and class scores, decoded and suppressed by us.
        case raw(RawOutputs)
    }

    public enum AnchorSource: Sendable, Equatable {
        case file(path: String)
        /// A graph output: by name, or by position when `name` is nil and `index` is set.
        case output(name: String?, index: Int?)
        case generator(SSDAnchorGenerator)
    }

    public struct RawOutputs: Sendable, Equatable {
        public var boxCoder: BoxCoder
        public var anchors: AnchorSource
        public var scores: ScoreConversion
        /// Score column of the background class, never proposed (nil: no background column).
        public var backgroundColumn: Int?
        public var nms: NonMaxSuppression
    }

    public var outputs: Outputs
    public var labels: LabelMap
    public var preprocessing: InputPreprocessing
    /// Where the description came from (a file path, or the convention used), for messages.
    public var source: String
}

/// The JSON description file `<model>.ssd.json` (or `--description FILE`). Flat keys, all optional
/// except what the outputs need; the person model's shipped `model.json` is a valid instance.
///
///     {
///       "outputs": "raw",                         // or "postprocessed" (TFLite_Detection_PostProcess)
///       "box_coder": "center_size",               // or "corner_offset"
///       "box_coder_scales_yxhw": [10, 10, 5, 5],
///       "anchors": "anchors_1917x4_yxyx_f32.bin", // little-endian float32 ymin,xmin,ymax,xmax
///       "anchors_output": "anchors_concat",       // or an output index; instead of "anchors"
///       "anchors_from_output_values": true,       // or: the [1,N,4] output whose rows are all proper boxes
///       "anchor_generator": {"min_scale": 0.2, "max_scale": 0.95, "feature_map_sizes": [19,10,5,3,2,1], ...},
///       "scores": "sigmoid",                      // or "softmax", "probabilities"
///       "logit_scale": 1.0,
///       "background_class": 0,                    // -1: no background column
///       "labels": ["background", "person"],       // COCO names per score column
///       "labels_file": "labelmap.txt", "labels_layout": "coco_id_per_line",  // or "background_then_coco80"
///       "label_entries": [{"column": 0, "category_id": 1, "name": "person"}],  // exact columns (what the writer uses)
///       "input_mean": 127.5, "input_std": 127.5,
///       "nms_iou_threshold": 0.6, "score_threshold": 0.05, "max_detections": 100,
///       "nms_candidates": "best_class_per_anchor" // or "every_class"
///     }
///
/// Relative file names are resolved against the description's directory. `ModelDescription.jsonData()`
/// writes this format (every field explicit) and `load` reads it back to an equal description.
struct DescriptionFile: Codable {
    var outputs: String?
    var boxCoder: String?
    var boxCoderScalesYxhw: [Float]?
    var anchors: String?
    var anchorsOutput: StringOrInt?
    var anchorsFromOutputValues: Bool?
    var anchorGenerator: GeneratorParameters?
    var scores: String?
    var logitScale: Float?
    var backgroundClass: Int?
    var labels: [String]?
    var labelsFile: String?
    var labelsLayout: String?
    var labelEntries: [LabelEntry]?
    var inputMean: Float?
    var inputStd: Float?
    var nmsIouThreshold: Float?
    var scoreThreshold: Float?
    var maxDetections: Int?
    var nmsCandidates: String?
    var anchorFormat: String?
    /// Where the description written by `jsonData()` came from (for people; the loader ignores it).
    var describedBy: String?

    enum StringOrInt: Codable {
        case string(String), int(Int)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .string(s): try c.encode(s)
            case let .int(i): try c.encode(i)
            }
        }
    }

    struct LabelEntry: Codable {
        var column: Int
        var categoryId: Int
        var name: String
    }

    struct GeneratorParameters: Codable {
        var numLayers: Int?
        var minScale: Double?
        var maxScale: Double?
        var aspectRatios: [Double]?
        var interpolatedScaleAspectRatio: Double?
        var reduceBoxesInLowestLayer: Bool?
        var baseAnchorSize: [Double]?
        var featureMapSizes: [Int]?
    }
}

extension ModelDescription {
    /// Defaults for what a description leaves out: TF Object Detection API's SSD configs
    /// (sigmoid scores, background column 0, scales 10,10,5,5, NMS IoU 0.6, 100 detections,
    /// score > 0.05 as in the LiteRT reference runs).
    public static let defaultIoUThreshold: Float = 0.6

    /// Reads a description file; `labelsFallback` supplies labels when the file has none.
    public static func load(path: String) throws -> ModelDescription {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DetectorError.unreadableFile(path: path, reason: "model description cannot be read")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let file: DescriptionFile
        do {
            file = try decoder.decode(DescriptionFile.self, from: data)
        } catch {
            throw DetectorError.invalidDescription(path: path, reason: "not valid description JSON (\(error))")
        }
        return try interpret(file, path: path)
    }

    static func interpret(_ file: DescriptionFile, path: String) throws -> ModelDescription {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ name: String) -> String {
            name.hasPrefix("/") ? name : directory.appendingPathComponent(name).path
        }
        func invalid(_ reason: String) -> DetectorError { .invalidDescription(path: path, reason: reason) }

        let background: Int? = (file.backgroundClass ?? 0) < 0 ? nil : (file.backgroundClass ?? 0)
        let outputsKind = file.outputs ?? "raw"
        let labelOffset = outputsKind == "postprocessed" ? 1 : 0

        let labels: LabelMap
        if let entries = file.labelEntries {
            var byColumn: [Int: LabelMap.Entry] = [:]
            for entry in entries {
                guard byColumn[entry.column] == nil else { throw invalid("label_entries lists column \(entry.column) twice") }
                byColumn[entry.column] = LabelMap.Entry(categoryID: entry.categoryId, name: entry.name)
            }
            guard !byColumn.isEmpty else { throw invalid("label_entries is empty") }
            labels = LabelMap(entries: byColumn)
        } else if let names = file.labels {
            let byPosition = try LabelMap.fromNames(names, backgroundColumn: background, source: path)
            // TFLite_Detection_PostProcess numbers classes without the background column.
            let shift = labelOffset == 1 && background != nil ? 1 : 0
            labels = LabelMap(entries: Dictionary(uniqueKeysWithValues: byPosition.entries.map { ($0.key - shift, $0.value) }))
        } else if let labelsFile = file.labelsFile {
            guard let layout = LabelMap.FileLayout(rawValue: file.labelsLayout ?? "coco_id_per_line") else {
                throw invalid("labels_layout \"\(file.labelsLayout ?? "")\" is not coco_id_per_line or background_then_coco80")
            }
            labels = try LabelMap.load(path: resolve(labelsFile), layout: layout, columnOffset: labelOffset)
        } else {
            throw invalid("no \"labels\" or \"labels_file\"")
        }
        let preprocessing = InputPreprocessing(mean: file.inputMean ?? 127.5, std: file.inputStd ?? 127.5)

        switch outputsKind {
        case "postprocessed":
            return ModelDescription(outputs: .postProcessed, labels: labels, preprocessing: preprocessing, source: path)
        case "raw":
            break
        default:
            throw invalid("outputs \"\(outputsKind)\" is not raw or postprocessed")
        }

        let boxCoder: BoxCoder
        switch file.boxCoder ?? "center_size" {
        case "center_size":
            let s = file.boxCoderScalesYxhw ?? [10, 10, 5, 5]
            guard s.count == 4, s.allSatisfy({ $0 > 0 }) else { throw invalid("box_coder_scales_yxhw needs 4 positive numbers") }
            boxCoder = .centerSize(yScale: s[0], xScale: s[1], hScale: s[2], wScale: s[3])
        case "corner_offset":
            boxCoder = .cornerOffset
        case let other:
            throw invalid("box_coder \"\(other)\" is not center_size or corner_offset")
        }

        let anchors: AnchorSource
        let byValues = file.anchorsFromOutputValues == true
        let anchorChoices = [file.anchors != nil, file.anchorsOutput != nil, file.anchorGenerator != nil, byValues]
            .filter { $0 }.count
        guard anchorChoices == 1 else {
            throw invalid("give exactly one of anchors, anchors_output, anchors_from_output_values, anchor_generator")
        }
        if let name = file.anchors {
            if let format = file.anchorFormat, !format.hasPrefix("ymin,xmin,ymax,xmax") {
                throw invalid("anchor_format \"\(format)\": only ymin,xmin,ymax,xmax files are supported")
            }
            anchors = .file(path: resolve(name))
        } else if byValues {
            anchors = .output(name: nil, index: nil)
        } else if let output = file.anchorsOutput {
            switch output {
            case let .string(name): anchors = .output(name: name, index: nil)
            case let .int(index): anchors = .output(name: nil, index: index)
            }
        } else {
            let p = file.anchorGenerator!
            var g = SSDAnchorGenerator()
            if let v = p.numLayers { g.numLayers = v }
            if let v = p.minScale { g.minScale = v }
            if let v = p.maxScale { g.maxScale = v }
            if let v = p.aspectRatios { g.aspectRatios = v }
            if let v = p.interpolatedScaleAspectRatio { g.interpolatedScaleAspectRatio = v }
            if let v = p.reduceBoxesInLowestLayer { g.reduceBoxesInLowestLayer = v }
            if let v = p.baseAnchorSize { g.baseAnchorSize = v }
            if let v = p.featureMapSizes { g.featureMapSizes = v }
            guard g.featureMapSizes.count == g.numLayers, g.numLayers >= 2 else {
                throw invalid("anchor_generator needs num_layers >= 2 feature_map_sizes")
            }
            anchors = .generator(g)
        }

        let logitScale = file.logitScale ?? 1
        let scores: ScoreConversion
        switch file.scores ?? "sigmoid" {
        case "sigmoid": scores = .sigmoid(logitScale: logitScale)
        case "softmax": scores = .softmax(logitScale: logitScale)
        case "probabilities": scores = .identity
        case let other: throw invalid("scores \"\(other)\" is not sigmoid, softmax or probabilities")
        }

        let candidates: NonMaxSuppression.CandidateRule
        switch file.nmsCandidates ?? "best_class_per_anchor" {
        case "best_class_per_anchor": candidates = .bestClassPerAnchor
        case "every_class": candidates = .everyClass
        case let other: throw invalid("nms_candidates \"\(other)\" is not best_class_per_anchor or every_class")
        }
        let iou = file.nmsIouThreshold ?? defaultIoUThreshold
        guard iou > 0, iou <= 1 else { throw invalid("nms_iou_threshold \(iou) not in (0, 1]") }
        let nms = NonMaxSuppression(iouThreshold: iou, scoreThreshold: file.scoreThreshold ?? 0.05,
                                    maxDetections: file.maxDetections ?? 100, candidates: candidates)
        let raw = RawOutputs(boxCoder: boxCoder, anchors: anchors, scores: scores, backgroundColumn: background, nms: nms)
        return ModelDescription(outputs: .raw(raw), labels: labels, preprocessing: preprocessing, source: path)
    }
}

extension ModelDescription {
    /// This description as a description file with every field explicit (labels as exact column
    /// entries, absolute anchor paths), so `load` reads back an equal description; only `source`
    /// differs (it becomes the file's path). `describedBy` records where it came from, for people.
    public func jsonData(describedBy: String? = nil) throws -> Data {
        var file = DescriptionFile()
        file.describedBy = describedBy
        file.labelEntries = labels.entries.sorted { $0.key < $1.key }.map {
            DescriptionFile.LabelEntry(column: $0.key, categoryId: $0.value.categoryID, name: $0.value.name)
        }
        file.inputMean = preprocessing.mean
        file.inputStd = preprocessing.std
        switch outputs {
        case .postProcessed:
            file.outputs = "postprocessed"
        case let .raw(raw):
            file.outputs = "raw"
            switch raw.boxCoder {
            case let .centerSize(y, x, h, w):
                file.boxCoder = "center_size"
                file.boxCoderScalesYxhw = [y, x, h, w]
            case .cornerOffset:
                file.boxCoder = "corner_offset"
            }
            switch raw.anchors {
            case let .file(path):
                file.anchors = URL(fileURLWithPath: path).path  // absolute: the copy is read from another folder
            case let .output(name?, _):
                file.anchorsOutput = .string(name)
            case let .output(nil, index?):
                file.anchorsOutput = .int(index)
            case .output(nil, nil):
                file.anchorsFromOutputValues = true
            case let .generator(g):
                file.anchorGenerator = DescriptionFile.GeneratorParameters(
                    numLayers: g.numLayers, minScale: g.minScale, maxScale: g.maxScale, aspectRatios: g.aspectRatios,
                    interpolatedScaleAspectRatio: g.interpolatedScaleAspectRatio,
                    reduceBoxesInLowestLayer: g.reduceBoxesInLowestLayer, baseAnchorSize: g.baseAnchorSize,
                    featureMapSizes: g.featureMapSizes)
            }
            switch raw.scores {
            case let .sigmoid(scale): file.scores = "sigmoid"; file.logitScale = scale
            case let .softmax(scale): file.scores = "softmax"; file.logitScale = scale
            case .identity: file.scores = "probabilities"
            }
            file.backgroundClass = raw.backgroundColumn ?? -1
            file.nmsIouThreshold = raw.nms.iouThreshold
            file.scoreThreshold = raw.nms.scoreThreshold
            file.maxDetections = raw.nms.maxDetections
            switch raw.nms.candidates {
            case .bestClassPerAnchor: file.nmsCandidates = "best_class_per_anchor"
            case .everyClass: file.nmsCandidates = "every_class"
            }
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(file)
    }
}
