/// numpy's float64 `sum` (pairwise summation, 8-way unrolled below 128 elements), so means over
/// precision cells round exactly as `np.mean` does in pycocotools' summarize.
enum NumpySum {
    static func pairwise(_ values: UnsafeBufferPointer<Double>) -> Double {
        let count = values.count
        if count < 8 {
            var sum = 0.0
            for value in values { sum += value }
            return sum
        }
        if count <= 128 {
            var r0 = values[0], r1 = values[1], r2 = values[2], r3 = values[3]
            var r4 = values[4], r5 = values[5], r6 = values[6], r7 = values[7]
            var index = 8
            while index < count - count % 8 {
                r0 += values[index]
                r1 += values[index + 1]
                r2 += values[index + 2]
                r3 += values[index + 3]
                r4 += values[index + 4]
                r5 += values[index + 5]
                r6 += values[index + 6]
                r7 += values[index + 7]
                index += 8
            }
            var sum = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while index < count {
                sum += values[index]
                index += 1
            }
            return sum
        }
        var half = count / 2
        half -= half % 8
        return pairwise(UnsafeBufferPointer(rebasing: values[0..<half]))
            + pairwise(UnsafeBufferPointer(rebasing: values[half..<count]))
    }

    /// `np.mean(values[values > -1])`, or -1 when nothing is left (pycocotools' convention).
    static func meanOfValid(_ values: [Double]) -> Double {
        let valid = values.filter { $0 > -1 }
        guard !valid.isEmpty else { return -1 }
        return valid.withUnsafeBufferPointer { pairwise($0) } / Double(valid.count)
    }
}
