import Foundation
import TFLiteModel

/// What the resolver needs to know about a model's graph (filled from the TFLite model by the caller).
public struct GraphSummary: Sendable, Equatable {
    public struct Output: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public init(name: String, shape: [Int]) { self.name = name; self.shape = shape }
    }
    public var outputs: [Output]
    public var hasDetectionPostProcess: Bool

    public init(outputs: [Output], hasDetectionPostProcess: Bool) {
        self.outputs = outputs
        self.hasDetectionPostProcess = hasDetectionPostProcess
    }

    /// The main subgraph's outputs and whether it ends in TFLite_Detection_PostProcess.
    public init(model: TFLiteModel) {
        let graph = model.mainSubgraph
        self.init(outputs: graph.outputs.map { Output(name: graph.tensors[$0].name, shape: graph.tensors[$0].shape) },
                  hasDetectionPostProcess: graph.operators.contains { model.code(of: $0).name == "TFLite_Detection_PostProcess" })
    }
}

/// Finds how to read a model's detections. In order:
/// 1. an explicit description file (`--description FILE`);
/// 2. `<model>.ssd.json` beside the model (detect.tflite -> detect.ssd.json);
/// 3. `model.json` in the model's folder (the person model ships one; same format);
/// 4. a graph ending in TFLite_Detection_PostProcess with `labelmap.txt` beside it (v1 quant);
/// 5. raw outputs [1,N,C] + two [1,N,4] with `labels_coco_dataset_80.txt` beside it: the ST
///    model's convention (corner-offset boxes, softmaxed scores with background column 0, anchors
///    as a graph output, best class per anchor, NMS IoU 0.45 as its reference evaluation);
/// otherwise an error saying what to write.
public enum DescriptionResolver {
    public static func resolve(modelPath: String, explicitDescription: String? = nil,
                               graph: GraphSummary) throws -> ModelDescription {
        let fm = FileManager.default
        if let explicitDescription { return try ModelDescription.load(path: explicitDescription) }

        let modelURL = URL(fileURLWithPath: modelPath)
        let folder = modelURL.deletingLastPathComponent()
        let beside = folder.appendingPathComponent(modelURL.deletingPathExtension().lastPathComponent + ".ssd.json").path
        if fm.fileExists(atPath: beside) { return try ModelDescription.load(path: beside) }
        let sharedJSON = folder.appendingPathComponent("model.json").path
        if fm.fileExists(atPath: sharedJSON) { return try ModelDescription.load(path: sharedJSON) }

        let labelmap = folder.appendingPathComponent("labelmap.txt").path
        if graph.hasDetectionPostProcess {
            guard fm.fileExists(atPath: labelmap) else {
                throw DetectorError.modelNotUnderstood(path: modelPath, reason:
                    "it ends in TFLite_Detection_PostProcess but has no labelmap.txt (line i = COCO id i) beside it, "
                    + "and no \(beside) with \"outputs\": \"postprocessed\" and labels")
            }
            return ModelDescription(outputs: .postProcessed,
                                    labels: try LabelMap.load(path: labelmap, layout: .cocoIDPerLine, columnOffset: 1),
                                    preprocessing: InputPreprocessing(), source: "TFLite_Detection_PostProcess + \(labelmap)")
        }

        let coco80 = folder.appendingPathComponent("labels_coco_dataset_80.txt").path
        let boxLike = graph.outputs.filter { $0.shape.count == 3 && $0.shape.last == 4 }
        let scoreLike = graph.outputs.filter { $0.shape.count == 3 && $0.shape.last! > 4 }
        if fm.fileExists(atPath: coco80), boxLike.count == 2, scoreLike.count == 1 {
            let anchorsByName = boxLike.first { $0.name.lowercased().contains("anchor") }
            let raw = ModelDescription.RawOutputs(
                boxCoder: .cornerOffset,
                // Without an output named like "anchors", the anchors output is told apart by its values
                // at run time (see RawOutputDecoder).
                anchors: .output(name: anchorsByName?.name, index: nil),
                scores: .identity, backgroundColumn: 0,
                nms: NonMaxSuppression(iouThreshold: 0.45))
            return ModelDescription(outputs: .raw(raw),
                                    labels: try LabelMap.load(path: coco80, layout: .backgroundThenCOCO80),
                                    preprocessing: InputPreprocessing(), source: "raw anchors output + \(coco80)")
        }

        throw DetectorError.modelNotUnderstood(path: modelPath, reason:
            "no description found; write \(beside) (see ModelDescription: box coder, anchors, scores, labels, NMS IoU) "
            + "or pass --description FILE")
    }
}
