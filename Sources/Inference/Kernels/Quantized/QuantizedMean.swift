// MEAN on 8-bit tensors, for the cases checked against LiteRT 2.3's reference kernel (reduce.cc):
// - int8, 4-D input, axes {1, 2}, keep_dims: sum of (q - inZp), rescaled by inScale / outScale, divided
//   by the count rounding half away from zero (reference_integer_ops::Mean);
// - input and output quantization differ (other axes): float mean of the raw sums, rescaled in float
//   (reference_ops::QuantizedMeanOrSum).
// The remaining cases (uint8 over axes {1, 2} with keep_dims; equal quantization off those axes)
// produced outputs in LiteRT that neither the reference source's formulas nor simple variants
// reproduced on every fixture, so they are refused rather than approximated.

extension Quantized {
    /// `axes` may be negative and repeat; the output holds the non-reduced dimensions in order (with
    /// ones in place of reduced dimensions when `keepDims`, which does not change the layout).
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func mean<T: Element>(
        _ input: UnsafeBufferPointer<T>, inputShape: [Int], axes: [Int], keepDims: Bool,
        inputQuantization: TensorQuantization,
        output: UnsafeMutableBufferPointer<T>, outputQuantization: TensorQuantization
    ) throws {
        try inputQuantization.requirePerTensor("MEAN input")
        try outputQuantization.requirePerTensor("MEAN output")
        let rank = inputShape.count
        var reduced = [Bool](repeating: false, count: rank)
        for axis in axes {
            let resolved = axis < 0 ? axis + rank : axis
            guard resolved >= 0, resolved < rank else {
                throw KernelError("MEAN: axis \(axis) is outside rank \(rank)")
            }
            reduced[resolved] = true
        }
        try requireCount(input, inputShape.reduce(1, *), "MEAN input")
        let outputCount = zip(inputShape, reduced).reduce(1) { $0 * ($1.1 ? 1 : $1.0) }
        try requireCount(output, outputCount, "MEAN output")
        let count = zip(inputShape, reduced).reduce(1) { $0 * ($1.1 ? $1.0 : 1) }
        guard count > 0, outputCount > 0 else { return }

        let inZp = inputQuantization.zeroPoint, outZp = outputQuantization.zeroPoint
        let inScale = inputQuantization.scale, outScale = outputQuantization.scale
        let spatial = keepDims && rank == 4 && reduced == [false, true, true, false]
        // int8's spatial path sums zero-point-corrected values; every other path sums raw values.
        let subtracted: Int32 = spatial && T.self == Int8.self ? inZp : 0
        let sums = reduceSums(input, inputShape: inputShape, reduced: reduced, outputCount: outputCount, subtracting: subtracted)
        let n = Int32(count)
        let low = T.minimumValue, high = T.maximumValue

        let sameQuantization = inZp == outZp && inScale == outScale
        if spatial && T.self == Int8.self {
            let multiplier = try quantizeMultiplier(Double(inScale) / Double(outScale))
            for i in 0..<outputCount {
                var acc = multiplyByQuantizedMultiplier(sums[i], multiplier)
                acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n
                output[i] = T(clamped: min(max(acc &+ outZp, low), high))
            }
        } else if !spatial && !sameQuantization {
            let scale = inScale / outScale
            let bias = Float(-inZp) * scale
            for i in 0..<outputCount {
                let floatMean = Float(sums[i]) / Float(count)
                var result = min((floatMean * scale + bias).rounded(.toNearestOrAwayFromZero) + Float(outZp), Float(high))
                result = max(result, Float(low))
                output[i] = T(clamped: Int32(result))
            }
        } else {
            throw KernelError("MEAN: \(T.self) with axes \(axes), keep_dims \(keepDims) and \(sameQuantization ? "equal" : "differing") input and output quantization is not supported (not reproduced bit-exactly from TFLite)")
        }
    }

    /// Int32 sums of (value - subtracting) over the reduced dimensions, per output element.
    private static func reduceSums<T: Element>(
        _ input: UnsafeBufferPointer<T>, inputShape: [Int], reduced: [Bool], outputCount: Int, subtracting: Int32
    ) -> [Int32] {
        let rank = inputShape.count
        // Output stride of every input dimension (0 for reduced ones).
        var outputStrides = [Int](repeating: 0, count: rank)
        var stride = 1
        for axis in (0..<rank).reversed() where !reduced[axis] {
            outputStrides[axis] = stride
            stride *= inputShape[axis]
        }
        var sums = [Int32](repeating: 0, count: outputCount)
        var counter = [Int](repeating: 0, count: rank)
        var outputIndex = 0
        for inputIndex in 0..<input.count {
            sums[outputIndex] = sums[outputIndex] &+ (input[inputIndex].widened &- subtracting)
            var axis = rank - 1
            while axis >= 0 {
                counter[axis] += 1
                outputIndex += outputStrides[axis]
                if counter[axis] < inputShape[axis] { break }
                outputIndex -= outputStrides[axis] * counter[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return sums
    }
}
