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
///       "anchor_generator": {"min_scale": 0.2, "max_scale": 0.95, "feature_map_sizes": [19,10,5,3,2,1], ...},
///       "scores": "sigmoid",                      // or "softmax", "probabilities"
///       "logit_scale": 1.0,
///       "background_class": 0,                    // -1: no background column
///       "labels": ["background", "person"],       // COCO names per score column
///       "labels_file": "labelmap.txt", "labels_layout": "coco_id_per_line",  // or "background_then_coco80"
///       "input_mean": 127.5, "input_std": 127.5,
///       "nms_iou_threshold": 0.6, "score_threshold": 0.05, "max_detections": 100,
///       "nms_candidates": "best_class_per_anchor" // or "every_class"
///     }
///
/// Relative file names are resolved against the description's directory.
struct DescriptionFile: Decodable {
    var outputs: String?
    var boxCoder: String?
    var boxCoderScalesYxhw: [Float]?
    var anchors: String?
    var anchorsOutput: StringOrInt?
    var anchorGenerator: GeneratorParameters?
    var scores: String?
    var logitScale: Float?
    var backgroundClass: Int?
    var labels: [String]?
    var labelsFile: String?
    var labelsLayout: String?
    var inputMean: Float?
    var inputStd: Float?
    var nmsIouThreshold: Float?
    var scoreThreshold: Float?
    var maxDetections: Int?
    var nmsCandidates: String?
    var anchorFormat: String?

    enum StringOrInt: Decodable {
        case string(String), int(Int)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { self = .int(i) } else { self = .string(try c.decode(String.self)) }
        }
    }

    struct GeneratorParameters: Decodable {
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
        if let names = file.labels {
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
        let anchorChoices = [file.anchors != nil, file.anchorsOutput != nil, file.anchorGenerator != nil].filter { $0 }.count
        guard anchorChoices == 1 else { throw invalid("give exactly one of anchors, anchors_output, anchor_generator") }
        if let name = file.anchors {
            if let format = file.anchorFormat, !format.hasPrefix("ymin,xmin,ymax,xmax") {
                throw invalid("anchor_format \"\(format)\": only ymin,xmin,ymax,xmax files are supported")
            }
            anchors = .file(path: resolve(name))
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
