import Foundation

extension FloatKernels {
    /// LOGISTIC as TFLite's float reference: 1 above the upper cutoff, exp(x) below the lower cutoff
    /// (where 1/(1+exp(-x)) and exp(x) agree in float), 1/(1+exp(-x)) between.
    public static func logistic(_ input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        let cutoffUpper: Float = 16.619047164916992188
        let cutoffLower: Float = -9
        for i in 0..<count {
            let x = input[i]
            if x > cutoffUpper {
                output[i] = 1
            } else if x < cutoffLower {
                output[i] = expf(x)
            } else {
                output[i] = 1 / (1 + expf(-x))
            }
        }
    }

    /// SOFTMAX over the last axis (`depth` values per row) with TFLite's beta:
    /// exp((x - max) * beta) / sum over the row.
    public static func softmax(_ input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                               rows: Int, depth: Int, beta: Float) {
        for r in 0..<rows {
            let x = input + r * depth
            let y = output + r * depth
            var maximum = -Float.greatestFiniteMagnitude
            for c in 0..<depth { maximum = max(maximum, x[c]) }
            var sum: Float = 0
            for c in 0..<depth {
                let e = expf((x[c] - maximum) * beta)
                y[c] = e
                sum += e
            }
            for c in 0..<depth { y[c] = y[c] / sum }
        }
    }
}
