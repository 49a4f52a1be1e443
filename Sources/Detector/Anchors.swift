import Foundation

/// SSD anchors (prior boxes), normalised, stored in corner form ymin, xmin, ymax, xmax.
public struct Anchors: Sendable, Equatable {
    public var boxes: [NormalizedBox]

    public init(boxes: [NormalizedBox]) { self.boxes = boxes }

    public var count: Int { boxes.count }

    /// A file of little-endian float32 quadruples ymin, xmin, ymax, xmax (the person model's
    /// anchors_1917x4_yxyx_f32.bin).
    public static func load(yxyxFloat32File path: String) throws -> Anchors {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DetectorError.unreadableFile(path: path, reason: "cannot be read")
        }
        guard data.count > 0, data.count % 16 == 0 else {
            throw DetectorError.unreadableFile(path: path, reason: "size \(data.count) bytes is not a multiple of 16 (4 float32 per anchor)")
        }
        let values: [Float] = data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return Anchors(boxes: stride(from: 0, to: values.count, by: 4).map {
            NormalizedBox(ymin: values[$0], xmin: values[$0 + 1], ymax: values[$0 + 2], xmax: values[$0 + 3])
        })
    }

    /// A flat [N*4] tensor of xmin, ymin, xmax, ymax (the ST model's anchors output).
    public init(xyxy values: [Float]) {
        precondition(values.count % 4 == 0)
        boxes = stride(from: 0, to: values.count, by: 4).map {
            NormalizedBox(ymin: values[$0 + 1], xmin: values[$0], ymax: values[$0 + 3], xmax: values[$0 + 2])
        }
    }

    /// A flat [N*4] tensor of ycenter, xcenter, h, w (TFLite_Detection_PostProcess's anchors input).
    public init(centerSize values: [Float]) {
        precondition(values.count % 4 == 0)
        boxes = stride(from: 0, to: values.count, by: 4).map {
            let yc = values[$0], xc = values[$0 + 1], h = values[$0 + 2], w = values[$0 + 3]
            return NormalizedBox(ymin: yc - h / 2, xmin: xc - w / 2, ymax: yc + h / 2, xmax: xc + w / 2)
        }
    }
}

/// TF Object Detection API's `ssd_anchor_generator` (MultipleGridAnchorGenerator via
/// create_ssd_anchors), for models that describe their anchors by parameters.
public struct SSDAnchorGenerator: Sendable, Equatable, Codable {
    public var numLayers = 6
    public var minScale: Double = 0.2
    public var maxScale: Double = 0.95
    public var aspectRatios: [Double] = [1.0, 2.0, 0.5, 3.0, 0.3333]
    public var interpolatedScaleAspectRatio: Double = 1.0
    public var reduceBoxesInLowestLayer = true
    public var baseAnchorSize: [Double] = [1.0, 1.0]
    /// Feature map sizes (square), e.g. [19, 10, 5, 3, 2, 1] for a 300x300 MobileNet SSD.
    public var featureMapSizes: [Int] = [19, 10, 5, 3, 2, 1]

    public init() {}

    /// Anchors in the API's order: layer by layer, then row (y), column (x), then box spec.
    public func generate() -> Anchors {
        // Scales linearly spaced from min to max, plus 1.0 for the interpolated anchor of the last layer.
        var scales = (0..<numLayers).map { i in
            minScale + (maxScale - minScale) * Double(i) / Double(numLayers - 1)
        }
        scales.append(1.0)
        var boxes: [NormalizedBox] = []
        for layer in 0..<numLayers {
            var specs: [(scale: Double, aspect: Double)] = []
            if layer == 0 && reduceBoxesInLowestLayer {
                specs = [(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)]
            } else {
                specs = aspectRatios.map { (scales[layer], $0) }
                if interpolatedScaleAspectRatio > 0 {
                    specs.append(((scales[layer] * scales[layer + 1]).squareRoot(), interpolatedScaleAspectRatio))
                }
            }
            let size = featureMapSizes[layer]
            // Anchor stride and offset as the API derives them: 1/size and half a cell.
            let stride = 1.0 / Double(size)
            let offset = 0.5 * stride
            for y in 0..<size {
                for x in 0..<size {
                    let yc = Double(y) * stride + offset
                    let xc = Double(x) * stride + offset
                    for spec in specs {
                        let ratioRoot = spec.aspect.squareRoot()
                        let h = spec.scale / ratioRoot * baseAnchorSize[0]
                        let w = spec.scale * ratioRoot * baseAnchorSize[1]
                        boxes.append(NormalizedBox(ymin: Float(yc - 0.5 * h), xmin: Float(xc - 0.5 * w),
                                                   ymax: Float(yc + 0.5 * h), xmax: Float(xc + 0.5 * w)))
                    }
                }
            }
        }
        return Anchors(boxes: boxes)
    }
}
