import TFLiteModel

// Binds TFLite_Detection_PostProcess: options from its FlexBuffer custom options, inputs dequantized
// to float first (TFLite's kernel does the same for uint8 inputs), outputs float32 as the op declares.
extension OperatorDispatch {
    static func detectionPostProcess(_ b: OperatorBinding) throws -> Kernel {
        guard let custom = b.customOptions else {
            throw KernelError.invalid("TFLite_Detection_PostProcess has no custom options")
        }
        func int(_ key: String, _ fallback: Int? = nil) throws -> Int {
            if let v = custom[key]?.asInt { return v }
            if let fallback { return fallback }
            throw KernelError.invalid("TFLite_Detection_PostProcess option \(key) is missing")
        }
        func float(_ key: String, _ fallback: Float? = nil) throws -> Float {
            if let v = custom[key]?.asDouble { return Float(v) }
            if let fallback { return fallback }
            throw KernelError.invalid("TFLite_Detection_PostProcess option \(key) is missing")
        }
        let options = DetectionPostProcessOptions(
            maxDetections: try int("max_detections"),
            maxClassesPerDetection: try int("max_classes_per_detection", 1),
            detectionsPerClass: try int("detections_per_class", 100),
            useRegularNMS: (custom["use_regular_nms"]?.asInt ?? 0) != 0,
            nmsScoreThreshold: try float("nms_score_threshold"),
            nmsIoUThreshold: try float("nms_iou_threshold"),
            numClasses: try int("num_classes"),
            yScale: try float("y_scale", 10), xScale: try float("x_scale", 10),
            hScale: try float("h_scale", 5), wScale: try float("w_scale", 5))

        let boxes = try b.input(0), scores = try b.input(1), anchors = try b.input(2)
        guard boxes.shape.count == 3, scores.shape.count == 3, anchors.shape.count == 2, anchors.shape[1] == 4,
              boxes.shape[1] == anchors.shape[0], scores.shape[1] == anchors.shape[0], boxes.shape[2] >= 4 else {
            throw KernelError.invalid("TFLite_Detection_PostProcess inputs have shapes \(boxes.shape), "
                + "\(scores.shape), \(anchors.shape); expected [1,N,>=4], [1,N,C], [N,4]")
        }
        let outputs = (0..<4).compactMap { try? b.output($0) }
        guard outputs.count == 4, outputs.allSatisfy({ $0.type == .float32 }) else {
            throw KernelError.invalid("TFLite_Detection_PostProcess needs four float32 outputs")
        }
        let rows = options.outputRows
        guard outputs[0].elementCount == rows * 4, outputs[1].elementCount == rows, outputs[2].elementCount == rows,
              outputs[3].elementCount == 1 else {
            throw KernelError.invalid("TFLite_Detection_PostProcess outputs do not hold \(rows) detections")
        }
        let readBoxes = try floatReader(boxes), readScores = try floatReader(scores), readAnchors = try floatReader(anchors)
        let numAnchors = anchors.shape[0], columns = scores.shape[2], stride = boxes.shape[2]
        return {
            let (boxValues, scoreValues, anchorValues) = (readBoxes(), readScores(), readAnchors())
            let result = try boxValues.withUnsafeBufferPointer { bp in
                try scoreValues.withUnsafeBufferPointer { sp in
                    try anchorValues.withUnsafeBufferPointer { ap in
                        try Inference.detectionPostProcess(
                            boxEncodings: bp, classScores: sp, anchors: ap, numAnchors: numAnchors,
                            numClassesWithBackground: columns, boxEncodingStride: stride, options: options)
                    }
                }
            }
            for (output, values) in zip(outputs, [result.boxes, result.classes, result.scores, [result.numDetections]]) {
                let n = min(values.count, output.elementCount)
                output.float.update(repeating: 0, count: output.elementCount)
                values.withUnsafeBufferPointer { output.float.update(from: $0.baseAddress!, count: n) }
            }
        }
    }

    /// Float values of a float32 or affine-quantized uint8/int8 tensor, read at run time.
    private static func floatReader(_ t: BoundTensor) throws -> () -> [Float] {
        let count = t.elementCount
        switch t.type {
        case .float32:
            return { Array(UnsafeBufferPointer(start: t.float, count: count)) }
        case .uint8, .int8:
            guard let q = t.quantization, q.isAffine, q.scales.count == 1 else {
                throw KernelError.unsupported("TFLite_Detection_PostProcess input \(t.index) is not per-tensor quantized")
            }
            let scale = q.scales[0], zeroPoint = Float(q.zeroPoints.first ?? 0)
            if t.type == .uint8 {
                let p = t.data.assumingMemoryBound(to: UInt8.self)
                return { (0..<count).map { (Float(p[$0]) - zeroPoint) * scale } }
            }
            let p = t.data.assumingMemoryBound(to: Int8.self)
            return { (0..<count).map { (Float(p[$0]) - zeroPoint) * scale } }
        default:
            throw KernelError.unsupported("TFLite_Detection_PostProcess input of type \(t.type.name)")
        }
    }
}
