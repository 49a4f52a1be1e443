/// How an activation's int8 range is chosen from the calibration values.
///
/// - minmax: smallest and largest value seen over all calibration images (what the TFLite converter does).
/// - percentile: per image, the 0.01 % and 99.99 % quantiles (from a 2048-bin histogram); averaged over images.
/// - mse: per image, the range [f·min, f·max] (f in 1/64 ... 1) with the smallest expected squared error
///   (clipping error outside, step²/12 inside), from the same histogram; averaged over images.
public enum RangeMethod: String, CaseIterable, Sendable {
    case minmax, percentile, mse
}

/// A value range and the per-image statistics that choose it.
struct RangeAccumulator {
    private(set) var low = Float.infinity
    private(set) var high = -Float.infinity
    private var lowSum: Double = 0
    private var highSum: Double = 0
    private var images = 0

    static let bins = 2048
    static let tailFraction = 0.0001

    mutating func add(_ values: [Float], method: RangeMethod) {
        guard let lo = values.min(), let hi = values.max() else { return }
        low = min(low, lo)
        high = max(high, hi)
        guard method != .minmax, hi > lo else {
            lowSum += Double(lo); highSum += Double(hi); images += 1
            return
        }
        var histogram = [Double](repeating: 0, count: Self.bins)
        let width = (hi - lo) / Float(Self.bins)
        for v in values { histogram[min(Self.bins - 1, Int((v - lo) / width))] += 1 }
        let chosen = method == .percentile ? percentileRange(histogram, lo: lo, width: width, count: values.count)
                                           : mseRange(histogram, lo: lo, hi: hi, width: width)
        lowSum += Double(chosen.0); highSum += Double(chosen.1); images += 1
    }

    /// The range to quantize over, by `method`.
    func range(_ method: RangeMethod) -> (low: Float, high: Float) {
        if method == .minmax || images == 0 { return (low, high) }
        return (Float(lowSum / Double(images)), Float(highSum / Double(images)))
    }

    private func percentileRange(_ histogram: [Double], lo: Float, width: Float, count: Int) -> (Float, Float) {
        let tail = Self.tailFraction * Double(count)
        var seen = 0.0, lowBin = 0
        while lowBin < Self.bins - 1 && seen + histogram[lowBin] <= tail { seen += histogram[lowBin]; lowBin += 1 }
        seen = 0
        var highBin = Self.bins - 1
        while highBin > 0 && seen + histogram[highBin] <= tail { seen += histogram[highBin]; highBin -= 1 }
        return (lo + Float(lowBin) * width, lo + Float(highBin + 1) * width)
    }

    private func mseRange(_ histogram: [Double], lo: Float, hi: Float, width: Float) -> (Float, Float) {
        // Zero always stays representable, as in the final quantization.
        let a0 = Double(min(lo, 0)), b0 = Double(max(hi, 0))
        var best = (error: Double.infinity, low: lo, high: hi)
        for k in 1...64 {
            let f = Double(k) / 64
            let a = a0 * f, b = b0 * f
            let step = (b - a) / 255
            var error = 0.0
            for (bin, n) in histogram.enumerated() where n > 0 {
                let x = Double(lo) + (Double(bin) + 0.5) * Double(width)
                if x < a { error += n * (a - x) * (a - x) } else if x > b { error += n * (x - b) * (x - b) } else { error += n * step * step / 12 }
            }
            if error < best.error { best = (error, Float(a), Float(b)) }
        }
        return (best.low, best.high)
    }
}
