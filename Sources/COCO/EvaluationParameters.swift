/// pycocotools' default `Params(iouType='bbox')`, with the exact doubles numpy produces.
public enum COCOEvaluationParameters {
    /// `np.linspace(.5, 0.95, 10)`: note the 9th is 0.8999999999999999, not 0.9.
    public static let iouThresholds: [Double] = numpyLinspace(start: 0.5, stop: 0.95, count: 10)
    /// `np.linspace(.0, 1.00, 101)`.
    public static let recallThresholds: [Double] = numpyLinspace(start: 0.0, stop: 1.0, count: 101)
    /// Sorted ascending, as COCOeval.evaluate sorts them; the last one caps detections per image.
    public static let maxDetections: [Int] = [1, 10, 100]
    public static let areaRanges: [COCOAreaRange] = [
        COCOAreaRange(label: "all", lower: 0, upper: 1e5 * 1e5),
        COCOAreaRange(label: "small", lower: 0, upper: 32 * 32),
        COCOAreaRange(label: "medium", lower: 32 * 32, upper: 96 * 96),
        COCOAreaRange(label: "large", lower: 96 * 96, upper: 1e5 * 1e5),
    ]

    /// numpy's linspace: `i * step + start` with `step = (stop - start) / (count - 1)`, last = stop.
    static func numpyLinspace(start: Double, stop: Double, count: Int) -> [Double] {
        let step = (stop - start) / Double(count - 1)
        return (0..<count).map { index in index == count - 1 ? stop : Double(index) * step + start }
    }
}

/// An object-size bucket; both bounds are inclusive (pycocotools ignores `area < lower || area > upper`).
public struct COCOAreaRange: Equatable, Sendable {
    public let label: String
    public let lower: Double
    public let upper: Double

    func excludes(_ area: Double) -> Bool { area < lower || area > upper }
}
