/// One float output tensor of a model run (dequantized if the model's output was quantized).
public struct OutputTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]
    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name; self.shape = shape; self.values = values
    }
}

/// Raw SSD outputs -> detections: decode boxes on the anchors, convert scores, class-aware NMS,
/// map classes to COCO ids, scale to the original image.
public struct RawOutputDecoder: Sendable {
    public let raw: ModelDescription.RawOutputs
    public let labels: LabelMap
    /// Anchors known before any run (file or generator); nil when they come from a graph output.
    let fixedAnchors: Anchors?

    public init(raw: ModelDescription.RawOutputs, labels: LabelMap) throws {
        self.raw = raw
        self.labels = labels
        switch raw.anchors {
        case let .file(path): fixedAnchors = try Anchors.load(yxyxFloat32File: path)
        case let .generator(generator): fixedAnchors = generator.generate()
        case .output: fixedAnchors = nil
        }
    }

    public func detections(outputs: [OutputTensor], imageWidth: Int, imageHeight: Int) throws -> [Detection] {
        try scoredBoxes(outputs: outputs).compactMap { kept in
            guard let entry = labels.entry(forColumn: kept.classIndex) else { return nil }  // unused ids ("???")
            return Detection(box: kept.box, imageWidth: imageWidth, imageHeight: imageHeight,
                             categoryID: entry.categoryID, label: entry.name, score: kept.score)
        }
    }

    /// Kept boxes in normalised coordinates, best first.
    public func scoredBoxes(outputs: [OutputTensor]) throws -> [ScoredBox] {
        let roles = try assignRoles(outputs)
        let anchors = fixedAnchors ?? Anchors(xyxy: roles.anchors!.values)
        let count = anchors.count
        guard roles.boxes.values.count == count * 4 else {
            throw DetectorError.modelNotUnderstood(path: roles.boxes.name,
                reason: "box output has \(roles.boxes.values.count / 4) boxes but there are \(count) anchors")
        }
        guard count > 0, roles.scores.values.count % count == 0 else {
            throw DetectorError.modelNotUnderstood(path: roles.scores.name, reason: "score output does not match \(count) anchors")
        }
        let columns = roles.scores.values.count / count
        let boxes = raw.boxCoder.decode(roles.boxes.values, anchors: anchors)
        let scores = raw.scores.apply(roles.scores.values, columns: columns)
        return raw.nms.run(boxes: boxes, scores: scores, columns: columns, backgroundColumn: raw.backgroundColumn)
    }

    /// Boxes: last dimension 4; scores: the other output; anchors (when from the graph): the named
    /// output, else the [1,N,4] output whose every row is a proper box (min < max). Encodings are
    /// offsets and have rows with min > max, so the two are told apart; ambiguity is an error.
    func assignRoles(_ outputs: [OutputTensor]) throws -> (boxes: OutputTensor, scores: OutputTensor, anchors: OutputTensor?) {
        var boxLike = outputs.filter { $0.shape.last == 4 }
        let scoreLike = outputs.filter { $0.shape.last != 4 }
        guard scoreLike.count == 1 else {
            throw DetectorError.modelNotUnderstood(path: outputs.map(\.name).joined(separator: ","),
                reason: "expected exactly one class score output, found \(scoreLike.count)")
        }
        var anchors: OutputTensor?
        if case let .output(name, index) = raw.anchors {
            if let name {
                anchors = outputs.first { $0.name == name }
            } else if let index, outputs.indices.contains(index) {
                anchors = outputs[index]
            } else {
                let proper = boxLike.filter { Self.allRowsAreProperBoxes($0.values) }
                anchors = proper.count == 1 ? proper[0] : nil
            }
            guard let found = anchors else {
                throw DetectorError.modelNotUnderstood(path: outputs.map(\.name).joined(separator: ","),
                    reason: "cannot tell which output holds the anchors; set anchors_output in the description")
            }
            boxLike.removeAll { $0.name == found.name }
        }
        guard boxLike.count == 1 else {
            throw DetectorError.modelNotUnderstood(path: outputs.map(\.name).joined(separator: ","),
                reason: "expected exactly one box encoding output, found \(boxLike.count)")
        }
        return (boxLike[0], scoreLike[0], anchors)
    }

    static func allRowsAreProperBoxes(_ xyxy: [Float]) -> Bool {
        for row in stride(from: 0, to: xyxy.count, by: 4) {
            let xmin: Float = xyxy[row], ymin: Float = xyxy[row + 1], xmax: Float = xyxy[row + 2], ymax: Float = xyxy[row + 3]
            if !(xmin < xmax && ymin < ymax) { return false }
        }
        return true
    }
}

/// TFLite_Detection_PostProcess outputs -> detections (class index + label offset via the label map).
public enum PostProcessedOutputs {
    public static func detections(boxes: [Float], classes: [Float], scores: [Float], count: Float,
                                  labels: LabelMap, imageWidth: Int, imageHeight: Int,
                                  scoreThreshold: Float = 0) -> [Detection] {
        let n = max(0, min(Int(count), classes.count, scores.count, boxes.count / 4))
        return (0..<n).compactMap { i in
            guard scores[i] > scoreThreshold, let entry = labels.entry(forColumn: Int(classes[i])) else { return nil }
            let box = NormalizedBox(ymin: boxes[i * 4], xmin: boxes[i * 4 + 1], ymax: boxes[i * 4 + 2], xmax: boxes[i * 4 + 3])
            return Detection(box: box, imageWidth: imageWidth, imageHeight: imageHeight,
                             categoryID: entry.categoryID, label: entry.name, score: scores[i])
        }
    }
}
