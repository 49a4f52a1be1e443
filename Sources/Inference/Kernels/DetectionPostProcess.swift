import Foundation

/// Options of TFLite's custom op `TFLite_Detection_PostProcess` (its flexbuffer custom options).
/// Defaults are the kernel's defaults for keys a model leaves out.
public struct DetectionPostProcessOptions: Sendable, Equatable {
    public var maxDetections: Int
    public var maxClassesPerDetection: Int = 1
    public var detectionsPerClass: Int = 100
    public var useRegularNMS: Bool = false
    public var nmsScoreThreshold: Float
    public var nmsIoUThreshold: Float
    /// Classes without background.
    public var numClasses: Int
    public var yScale: Float = 10
    public var xScale: Float = 10
    public var hScale: Float = 5
    public var wScale: Float = 5

    public init(maxDetections: Int, maxClassesPerDetection: Int = 1, detectionsPerClass: Int = 100,
                useRegularNMS: Bool = false, nmsScoreThreshold: Float, nmsIoUThreshold: Float,
                numClasses: Int, yScale: Float = 10, xScale: Float = 10, hScale: Float = 5, wScale: Float = 5) {
        self.maxDetections = maxDetections
        self.maxClassesPerDetection = maxClassesPerDetection
        self.detectionsPerClass = detectionsPerClass
        self.useRegularNMS = useRegularNMS
        self.nmsScoreThreshold = nmsScoreThreshold
        self.nmsIoUThreshold = nmsIoUThreshold
        self.numClasses = numClasses
        self.yScale = yScale
        self.xScale = xScale
        self.hScale = hScale
        self.wScale = wScale
    }

    /// Rows of the output tensors: max_detections * max_classes_per_detection for fast NMS,
    /// max_detections for regular NMS (the kernel sizes its outputs by the first product always;
    /// regular NMS fills only the first max_detections rows).
    public var outputRows: Int { maxDetections * maxClassesPerDetection }
}

/// The op's four outputs, laid out as its tensors: boxes [1,N,4] (ymin,xmin,ymax,xmax),
/// classes [1,N] (class index without background, as float), scores [1,N], count [1].
public struct DetectionPostProcessOutput: Sendable, Equatable {
    public var boxes: [Float]
    public var classes: [Float]
    public var scores: [Float]
    public var numDetections: Float
}

public enum DetectionPostProcessError: Error, CustomStringConvertible, Equatable {
    case invalidOptions(String)
    case invalidShape(String)
    /// The kernel refuses decoded boxes with ymin > ymax or xmin > xmax (it cannot happen with
    /// finite inputs; NaN encodings are the realistic cause).
    case invalidBox(anchor: Int)

    public var description: String {
        switch self {
        case let .invalidOptions(why): return "TFLite_Detection_PostProcess: invalid options: \(why)"
        case let .invalidShape(why): return "TFLite_Detection_PostProcess: invalid input shape: \(why)"
        case let .invalidBox(anchor): return "TFLite_Detection_PostProcess: decoded box \(anchor) has min > max"
        }
    }
}

/// TFLite's `TFLite_Detection_PostProcess` (tensorflow/lite/kernels/detection_postprocess.cc) over
/// float inputs. For uint8 inputs, the caller dequantizes first with `(Float(q) - Float(zeroPoint)) * scale`,
/// which is what the kernel does internally, so results are identical.
///
/// - boxEncodings: [numAnchors, boxEncodingStride] with the first four values ty, tx, th, tw
///   (stride > 4 when keypoints follow, as the kernel allows).
/// - classScores: [numAnchors, numClassesWithBackground]; numClassesWithBackground is numClasses
///   or numClasses + 1 (a leading background column, skipped).
/// - anchors: [numAnchors, 4] centre-size: ycenter, xcenter, h, w.
///
/// Semantics kept exactly: decoding in double rounded to float; scores kept when >= threshold;
/// candidates ordered by a stable descending sort (ties: lower anchor first); a candidate is
/// suppressed when IoU > the IoU threshold (equal is kept); IoU 0 when either box has area <= 0.
/// Fast NMS takes each anchor's best class (first index wins ties, as the kernel's ArgMax).
/// Where the kernel uses std::partial_sort (top classes per anchor when maxClassesPerDetection > 1,
/// and merging per-class results in regular NMS), tie order is unspecified in C++; we break ties
/// by position (stable), which is one of the orders the kernel may produce.
public func detectionPostProcess(
    boxEncodings: UnsafeBufferPointer<Float>,
    classScores: UnsafeBufferPointer<Float>,
    anchors: UnsafeBufferPointer<Float>,
    numAnchors: Int,
    numClassesWithBackground: Int,
    boxEncodingStride: Int = 4,
    options: DetectionPostProcessOptions
) throws -> DetectionPostProcessOutput {
    let numClasses = options.numClasses
    guard numClasses > 0 else { throw DetectionPostProcessError.invalidOptions("num_classes \(numClasses)") }
    guard numClassesWithBackground == numClasses || numClassesWithBackground == numClasses + 1 else {
        throw DetectionPostProcessError.invalidShape(
            "\(numClassesWithBackground) score columns for num_classes \(numClasses)")
    }
    guard boxEncodingStride >= 4, boxEncodings.count >= numAnchors * boxEncodingStride,
          classScores.count >= numAnchors * numClassesWithBackground, anchors.count >= numAnchors * 4 else {
        throw DetectionPostProcessError.invalidShape("buffers too small for \(numAnchors) anchors")
    }
    guard options.maxDetections >= 0 else { throw DetectionPostProcessError.invalidOptions("max_detections < 0") }
    guard options.nmsIoUThreshold > 0, options.nmsIoUThreshold <= 1 else {
        throw DetectionPostProcessError.invalidOptions("nms_iou_threshold \(options.nmsIoUThreshold) not in (0, 1]")
    }

    let decoded = decodeCenterSizeBoxes(boxEncodings: boxEncodings, anchors: anchors, numAnchors: numAnchors,
                                        stride: boxEncodingStride, options: options)
    for anchor in 0..<numAnchors {
        let b = decoded[anchor]
        // Negated comparisons so NaN boxes are refused too.
        if !(b.ymin <= b.ymax) || !(b.xmin <= b.xmax) { throw DetectionPostProcessError.invalidBox(anchor: anchor) }
    }
    let labelOffset = numClassesWithBackground - numClasses
    let rows = options.outputRows
    var output = DetectionPostProcessOutput(boxes: [Float](repeating: 0, count: rows * 4),
                                            classes: [Float](repeating: 0, count: rows),
                                            scores: [Float](repeating: 0, count: rows), numDetections: 0)
    func write(row: Int, anchor: Int, classIndex: Int, score: Float) {
        let b = decoded[anchor]
        output.boxes.replaceSubrange(row * 4..<row * 4 + 4, with: [b.ymin, b.xmin, b.ymax, b.xmax])
        output.classes[row] = Float(classIndex)
        output.scores[row] = score
    }
    func score(anchor: Int, classIndex: Int) -> Float {
        classScores[anchor * numClassesWithBackground + labelOffset + classIndex]
    }

    if options.useRegularNMS {
        guard options.detectionsPerClass > 0 else { throw DetectionPostProcessError.invalidOptions("detections_per_class <= 0") }
        // (anchor, class, score) kept so far, best first, at most maxDetections.
        var kept: [(anchor: Int, classIndex: Int, score: Float)] = []
        var classColumn = [Float](repeating: 0, count: numAnchors)
        for classIndex in 0..<numClasses {
            for anchor in 0..<numAnchors { classColumn[anchor] = score(anchor: anchor, classIndex: classIndex) }
            let selected = singleClassNMS(boxes: decoded, scores: classColumn, maxDetections: options.detectionsPerClass,
                                          scoreThreshold: options.nmsScoreThreshold, iouThreshold: options.nmsIoUThreshold)
            var merged = kept + selected.map { (anchor: $0, classIndex: classIndex, score: classColumn[$0]) }
            merged = stableSortedDescending(merged, by: \.score)
            kept = Array(merged.prefix(options.maxDetections))
        }
        for (row, detection) in kept.enumerated() {
            write(row: row, anchor: detection.anchor, classIndex: detection.classIndex, score: detection.score)
        }
        output.numDetections = Float(kept.count)
    } else {
        guard options.maxClassesPerDetection > 0 else { throw DetectionPostProcessError.invalidOptions("max_classes_per_detection <= 0") }
        let classesPerAnchor = min(options.maxClassesPerDetection, numClasses)
        var bestClasses = [[Int]](repeating: [], count: numAnchors)
        var maxScores = [Float](repeating: 0, count: numAnchors)
        for anchor in 0..<numAnchors {
            if classesPerAnchor == 1 {
                var best = 0
                for c in 1..<numClasses where score(anchor: anchor, classIndex: c) > score(anchor: anchor, classIndex: best) {
                    best = c
                }
                bestClasses[anchor] = [best]
            } else {
                let ranked = stableSortedDescending(Array(0..<numClasses)) { score(anchor: anchor, classIndex: $0) }
                bestClasses[anchor] = Array(ranked.prefix(classesPerAnchor))
            }
            maxScores[anchor] = score(anchor: anchor, classIndex: bestClasses[anchor][0])
        }
        let selected = singleClassNMS(boxes: decoded, scores: maxScores, maxDetections: options.maxDetections,
                                      scoreThreshold: options.nmsScoreThreshold, iouThreshold: options.nmsIoUThreshold)
        for (index, anchor) in selected.enumerated() {
            for (column, classIndex) in bestClasses[anchor].enumerated() {
                write(row: options.maxClassesPerDetection * index + column, anchor: anchor, classIndex: classIndex,
                      score: score(anchor: anchor, classIndex: classIndex))
            }
        }
        output.numDetections = Float(selected.count)
    }
    return output
}

/// A decoded box in normalised corner form.
struct CornerBox {
    var ymin: Float, xmin: Float, ymax: Float, xmax: Float
}

/// The kernel's DecodeCenterSizeBoxes: arithmetic in double, each result rounded to float.
func decodeCenterSizeBoxes(boxEncodings: UnsafeBufferPointer<Float>, anchors: UnsafeBufferPointer<Float>,
                           numAnchors: Int, stride: Int, options: DetectionPostProcessOptions) -> [CornerBox] {
    (0..<numAnchors).map { i in
        let ty = Double(boxEncodings[i * stride]), tx = Double(boxEncodings[i * stride + 1])
        let th = Double(boxEncodings[i * stride + 2]), tw = Double(boxEncodings[i * stride + 3])
        let ay = Double(anchors[i * 4]), ax = Double(anchors[i * 4 + 1])
        let ah = Double(anchors[i * 4 + 2]), aw = Double(anchors[i * 4 + 3])
        let ycenter = Float(ty / Double(options.yScale) * ah + ay)
        let xcenter = Float(tx / Double(options.xScale) * aw + ax)
        let halfH = Float(0.5 * exp(th / Double(options.hScale)) * ah)
        let halfW = Float(0.5 * exp(tw / Double(options.wScale)) * aw)
        return CornerBox(ymin: ycenter - halfH, xmin: xcenter - halfW, ymax: ycenter + halfH, xmax: xcenter + halfW)
    }
}

/// The kernel's ComputeIntersectionOverUnion, in float.
func intersectionOverUnion(_ a: CornerBox, _ b: CornerBox) -> Float {
    let areaA = (a.ymax - a.ymin) * (a.xmax - a.xmin)
    let areaB = (b.ymax - b.ymin) * (b.xmax - b.xmin)
    if areaA <= 0 || areaB <= 0 { return 0 }
    let intersection = max(min(a.ymax, b.ymax) - max(a.ymin, b.ymin), 0)
        * max(min(a.xmax, b.xmax) - max(a.xmin, b.xmin), 0)
    return intersection / (areaA + areaB - intersection)
}

/// The kernel's NonMaxSuppressionSingleClassHelper: anchors in selection order.
func singleClassNMS(boxes: [CornerBox], scores: [Float], maxDetections: Int,
                    scoreThreshold: Float, iouThreshold: Float) -> [Int] {
    let candidates = scores.indices.filter { scores[$0] >= scoreThreshold }
    let ordered = stableSortedDescending(candidates) { scores[$0] }
    let outputSize = min(ordered.count, maxDetections)
    var active = [Bool](repeating: true, count: ordered.count)
    var activeCount = ordered.count
    var selected: [Int] = []
    for i in ordered.indices {
        if activeCount == 0 || selected.count >= outputSize { break }
        guard active[i] else { continue }
        selected.append(ordered[i])
        active[i] = false
        activeCount -= 1
        for j in (i + 1)..<ordered.count where active[j] {
            if intersectionOverUnion(boxes[ordered[i]], boxes[ordered[j]]) > iouThreshold {
                active[j] = false
                activeCount -= 1
            }
        }
    }
    return selected
}

/// Descending by key; equal keys keep their input order (std::stable_sort with `>`).
func stableSortedDescending<T>(_ items: [T], by key: (T) -> Float) -> [T] {
    items.enumerated().sorted { a, b in
        let ka = key(a.element), kb = key(b.element)
        return ka != kb ? ka > kb : a.offset < b.offset
    }.map(\.element)
}
