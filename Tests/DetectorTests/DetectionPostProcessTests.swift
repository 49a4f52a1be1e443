import Foundation
import Inference
import Testing

/// Our TFLite_Detection_PostProcess against LiteRT's on the v1 quant model's real intermediate
/// tensors (uint8, so many exact score ties): same count, classes, scores and boxes, bit for bit.
@Suite struct DetectionPostProcessVsLiteRTTests {
    static let stems = ["000000000802", "000000005001"]

    @Test(arguments: stems)
    func reproducesLiteRT(stem: String) throws {
        let record = try FixtureFiles.json("v1quant_postprocess.json")
        let o = record["options"] as! [String: Any]
        let options = DetectionPostProcessOptions(
            maxDetections: o["max_detections"] as! Int, maxClassesPerDetection: o["max_classes_per_detection"] as! Int,
            detectionsPerClass: (o["detections_per_class"] as? Int) ?? 100,
            useRegularNMS: (o["use_regular_nms"] as? Bool) ?? false,
            nmsScoreThreshold: float(o["nms_score_threshold"]!), nmsIoUThreshold: float(o["nms_iou_threshold"]!),
            numClasses: o["num_classes"] as! Int, yScale: float(o["y_scale"]!), xScale: float(o["x_scale"]!),
            hScale: float(o["h_scale"]!), wScale: float(o["w_scale"]!))
        let q = record["quantization"] as! [String: [String: Any]]
        func dequantize(_ bytes: [UInt8], _ key: String) -> [Float] {
            let scale = float(q[key]!["scale"]!), zeroPoint = Float(q[key]!["zero_point"] as! Int)
            return bytes.map { (Float($0) - zeroPoint) * scale }  // the kernel's own dequantization
        }
        let boxes = dequantize(try FixtureFiles.bytes("v1quant_\(stem)_boxes.u8"), "boxes")
        let scores = dequantize(try FixtureFiles.bytes("v1quant_\(stem)_scores.u8"), "scores")
        let anchors = dequantize(try FixtureFiles.bytes("v1quant_anchors.u8"), "anchors")
        let columns = (record["shapes"] as! [String: [Int]])["scores"]![2]

        let result = try boxes.withUnsafeBufferPointer { b in
            try scores.withUnsafeBufferPointer { s in
                try anchors.withUnsafeBufferPointer { a in
                    try detectionPostProcess(boxEncodings: b, classScores: s, anchors: a, numAnchors: 1917,
                                             numClassesWithBackground: columns, options: options)
                }
            }
        }
        let expected = (record["images"] as! [[String: Any]]).first { $0["stem"] as! String == stem }!
        let n = expected["num_detections"] as! Int
        #expect(result.numDetections == Float(n))
        #expect(Array(result.classes.prefix(n)) == (expected["classes"] as! [Any]).map(float))
        #expect(Array(result.scores.prefix(n)) == (expected["scores"] as! [Any]).map(float))
        #expect(Array(result.boxes.prefix(n * 4)) == (expected["boxes"] as! [Any]).map(float))
    }
}

/// Hand cases for the kernel's rules, on float inputs with identity-like anchors.
@Suite struct DetectionPostProcessRuleTests {
    /// Anchors in centre-size form and zero encodings decode to exactly the anchor boxes.
    static func run(anchorsCenterSize: [Float], scores: [Float], columns: Int, options: DetectionPostProcessOptions) throws
        -> DetectionPostProcessOutput {
        let n = anchorsCenterSize.count / 4
        let encodings = [Float](repeating: 0, count: n * 4)
        return try encodings.withUnsafeBufferPointer { b in
            try scores.withUnsafeBufferPointer { s in
                try anchorsCenterSize.withUnsafeBufferPointer { a in
                    try detectionPostProcess(boxEncodings: b, classScores: s, anchors: a, numAnchors: n,
                                             numClassesWithBackground: columns, options: options)
                }
            }
        }
    }

    /// Two boxes of width 1 offset by 1/3: intersection 2/3, union 4/3, IoU exactly 0.5.
    static let halfOverlap: [Float] = [0.5, 0.5, 1, 1, 0.5, 0.5 + 1.0 / 3, 1, 1]

    @Test func iouEqualToThresholdIsKept() throws {
        let scores: [Float] = [0, 0.9, 0, 0.8]
        let loose = DetectionPostProcessOptions(maxDetections: 5, nmsScoreThreshold: 0, nmsIoUThreshold: 1, numClasses: 1)
        let decoded = try Self.run(anchorsCenterSize: Self.halfOverlap, scores: scores, columns: 2, options: loose)
        // The IoU of the two decoded boxes, computed in float as the kernel does (about 0.5).
        let a = Array(decoded.boxes[0..<4]), b = Array(decoded.boxes[4..<8])
        let areaA = (a[2] - a[0]) * (a[3] - a[1]), areaB = (b[2] - b[0]) * (b[3] - b[1])
        let inter = max(min(a[2], b[2]) - max(a[0], b[0]), 0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0)
        let iou = inter / (areaA + areaB - inter)
        #expect(abs(iou - 0.5) < 1e-6)

        let atThreshold = DetectionPostProcessOptions(maxDetections: 5, nmsScoreThreshold: 0, nmsIoUThreshold: iou, numClasses: 1)
        #expect(try Self.run(anchorsCenterSize: Self.halfOverlap, scores: scores, columns: 2, options: atThreshold).numDetections == 2)
        let below = DetectionPostProcessOptions(maxDetections: 5, nmsScoreThreshold: 0, nmsIoUThreshold: iou.nextDown, numClasses: 1)
        #expect(try Self.run(anchorsCenterSize: Self.halfOverlap, scores: scores, columns: 2, options: below).numDetections == 1)
    }

    @Test func equalScoresKeepLowerAnchorFirstAndScoreThresholdIsInclusive() throws {
        // Three separate boxes; anchors 0 and 2 tie at 0.5, anchor 1 has exactly the threshold 0.3.
        let anchors: [Float] = [0.1, 0.1, 0.1, 0.1, 0.5, 0.5, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1]
        let options = DetectionPostProcessOptions(maxDetections: 5, nmsScoreThreshold: 0.3, nmsIoUThreshold: 0.5, numClasses: 1)
        let out = try Self.run(anchorsCenterSize: anchors, scores: [0, 0.5, 0, 0.3, 0, 0.5], columns: 2, options: options)
        #expect(out.numDetections == 3)
        #expect(out.scores.prefix(3) == [0.5, 0.5, 0.3])
        // First row is anchor 0 (y 0.05...0.15), second anchor 2 (y 0.85...0.95).
        #expect(out.boxes[0] == Float(0.1) - Float(0.05) && out.boxes[4] == Float(0.9) - Float(0.05))
        #expect(out.scores.count == 5 && out.scores[3] == 0)  // unused rows stay zero
    }

    @Test func fastNMSTakesFirstBestClassAndSkipsBackground() throws {
        // One anchor, background 0.99 (ignored), classes 1 and 2 tie at 0.4: class index 0 wins.
        let options = DetectionPostProcessOptions(maxDetections: 1, nmsScoreThreshold: 0.1, nmsIoUThreshold: 0.5, numClasses: 3)
        let out = try Self.run(anchorsCenterSize: [0.5, 0.5, 0.2, 0.2], scores: [0.99, 0.4, 0.4, 0.1], columns: 4, options: options)
        #expect(out.numDetections == 1 && out.classes == [0] && out.scores == [0.4])
    }

    @Test func regularNMSIsPerClassThenBestOverall() throws {
        // Two overlapping anchors (IoU 0.5 > 0.4). Class 0: anchor 0 = 0.9, anchor 1 = 0.8 -> only anchor 0.
        // Class 1: anchor 1 = 0.85 -> kept (other class). Order by score: (a0,c0,0.9), (a1,c1,0.85).
        let options = DetectionPostProcessOptions(maxDetections: 3, detectionsPerClass: 5, useRegularNMS: true,
                                                  nmsScoreThreshold: 0.1, nmsIoUThreshold: 0.4, numClasses: 2)
        let out = try Self.run(anchorsCenterSize: Self.halfOverlap, scores: [0, 0.9, 0.2, 0, 0.8, 0.85], columns: 3, options: options)
        #expect(out.numDetections == 2)
        #expect(Array(out.classes.prefix(2)) == [0, 1])
        #expect(Array(out.scores.prefix(2)) == [0.9, 0.85])
    }

    @Test func centerSizeDecodingByHand() throws {
        // Anchor centre (0.5, 0.5), size 0.2 x 0.4; encodings ty=1, tx=-2, th=5*ln 2, tw=0 with scales
        // 10,10,5,5: centre y = 0.5 + 0.1*0.2 = 0.52, x = 0.5 - 0.2*0.4 = 0.42, h = 2*0.2 = 0.4, w = 0.4.
        let encodings: [Float] = [1, -2, 5 * Float(log(2.0)), 0]
        let anchors: [Float] = [0.5, 0.5, 0.2, 0.4]
        let options = DetectionPostProcessOptions(maxDetections: 1, nmsScoreThreshold: 0, nmsIoUThreshold: 0.5, numClasses: 1)
        let out = try encodings.withUnsafeBufferPointer { b in
            try [Float(0), 1].withUnsafeBufferPointer { s in
                try anchors.withUnsafeBufferPointer { a in
                    try detectionPostProcess(boxEncodings: b, classScores: s, anchors: a, numAnchors: 1,
                                             numClassesWithBackground: 2, options: options)
                }
            }
        }
        let expected: [Float] = [0.32, 0.22, 0.72, 0.62]
        for (got, want) in zip(out.boxes, expected) { #expect(abs(got - want) < 1e-6) }
    }

    @Test func badOptionsAreErrors() throws {
        let options = DetectionPostProcessOptions(maxDetections: 1, nmsScoreThreshold: 0, nmsIoUThreshold: 1.5, numClasses: 1)
        #expect(throws: DetectionPostProcessError.self) {
            try Self.run(anchorsCenterSize: [0.5, 0.5, 1, 1], scores: [0, 1], columns: 2, options: options)
        }
        let wrongColumns = DetectionPostProcessOptions(maxDetections: 1, nmsScoreThreshold: 0, nmsIoUThreshold: 0.5, numClasses: 5)
        #expect(throws: DetectionPostProcessError.self) {
            try Self.run(anchorsCenterSize: [0.5, 0.5, 1, 1], scores: [0, 1], columns: 2, options: wrongColumns)
        }
    }
}
