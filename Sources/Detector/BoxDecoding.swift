import Foundation

/// How a model's box outputs relate to its anchors.
public enum BoxCoder: Sendable, Equatable {
    /// TF OD API FasterRcnnBoxCoder: encodings ty, tx, th, tw scaled by (y, x, h, w) scales.
    case centerSize(yScale: Float, xScale: Float, hScale: Float, wScale: Float)
    /// Corner offsets relative to the anchor size (the ST model): encodings dx1, dy1, dx2, dy2 and
    /// x1 = dx1 * wa + ax1, y1 = dy1 * ha + ay1, x2 = dx2 * wa + ax2, y2 = dy2 * ha + ay2.
    case cornerOffset

    public static let tfObjectDetectionDefault = BoxCoder.centerSize(yScale: 10, xScale: 10, hScale: 5, wScale: 5)

    /// Decodes `anchors.count` boxes from a flat array with `stride` values per anchor
    /// (the first four used).
    public func decode(_ encodings: [Float], anchors: Anchors, stride: Int = 4) -> [NormalizedBox] {
        precondition(stride >= 4 && encodings.count >= anchors.count * stride, "box encodings do not match the anchors")
        return anchors.boxes.indices.map { i in
            let e = i * stride
            let a = anchors.boxes[i]
            let ha = a.ymax - a.ymin, wa = a.xmax - a.xmin
            switch self {
            case let .centerSize(yScale, xScale, hScale, wScale):
                let yca = a.ymin + ha / 2, xca = a.xmin + wa / 2
                let yc = encodings[e] / yScale * ha + yca
                let xc = encodings[e + 1] / xScale * wa + xca
                let h = Float(exp(Double(encodings[e + 2] / hScale))) * ha
                let w = Float(exp(Double(encodings[e + 3] / wScale))) * wa
                return NormalizedBox(ymin: yc - h / 2, xmin: xc - w / 2, ymax: yc + h / 2, xmax: xc + w / 2)
            case .cornerOffset:
                return NormalizedBox(ymin: encodings[e + 1] * ha + a.ymin, xmin: encodings[e] * wa + a.xmin,
                                     ymax: encodings[e + 3] * ha + a.ymax, xmax: encodings[e + 2] * wa + a.xmax)
            }
        }
    }
}
