// RESIZE_BILINEAR on 8-bit tensors, following the two paths of LiteRT's reference kernel
// (resize_bilinear.cc): int8 uses reference_ops::ResizeBilinearInteger, 10-bit fixed-point source
// coordinates with the four weighted neighbours summed in int64 (20 fractional bits) and rounded
// half away from zero; uint8 uses the templated float reference_ops::ResizeBilinear, float
// coordinates and weights, + 0.5 and truncation.

extension Quantized {
    /// input [N, H, W, C] -> output [N, outputHeight, outputWidth, C]; quantization passes through.
    @_specialize(where T == UInt8)
    @_specialize(where T == Int8)
    public static func resizeBilinear<T: Element>(
        _ input: UnsafeBufferPointer<T>, inputShape: [Int],
        output: UnsafeMutableBufferPointer<T>, outputHeight: Int, outputWidth: Int,
        alignCorners: Bool, halfPixelCenters: Bool
    ) throws {
        try requireRank(inputShape, 4, "RESIZE_BILINEAR input")
        guard !(alignCorners && halfPixelCenters) else {
            throw KernelError("RESIZE_BILINEAR: align_corners and half_pixel_centers cannot both be set")
        }
        guard outputHeight >= 1, outputWidth >= 1 else {
            throw KernelError("RESIZE_BILINEAR: output size \(outputHeight)x\(outputWidth) is empty")
        }
        let batches = inputShape[0], inputHeight = inputShape[1], inputWidth = inputShape[2]
        let depth = inputShape[3]
        try requireCount(input, batches * inputHeight * inputWidth * depth, "RESIZE_BILINEAR input")
        try requireCount(output, batches * outputHeight * outputWidth * depth, "RESIZE_BILINEAR output")
        guard inputHeight >= 1, inputWidth >= 1 else { return }
        if T.self == UInt8.self {
            resizeBilinearInFloat(input, batches: batches, inputHeight: inputHeight, inputWidth: inputWidth,
                                  depth: depth, output: output, outputHeight: outputHeight, outputWidth: outputWidth,
                                  alignCorners: alignCorners, halfPixelCenters: halfPixelCenters)
            return
        }

        let one: Int32 = 1 << 10
        func scale(_ inputSize: Int, _ outputSize: Int) -> Int32 {
            if alignCorners && outputSize > 1 {
                return Int32(((1 << 10) * (inputSize - 1) + (outputSize - 1) / 2) / (outputSize - 1))
            }
            return Int32(((1 << 10) * inputSize + outputSize / 2) / outputSize)
        }
        // Source coordinate (10 fractional bits) and the two neighbouring indices.
        func interpolation(_ index: Int, _ scale: Int32, _ inputSize: Int) -> (Int32, Int, Int) {
            let scaled = halfPixelCenters
                ? Int32(index) * scale + scale / 2 - (1 << 9)
                : Int32(index) * scale
            let lower = max(scaled / one, 0)  // truncating division, as in C++
            let upper = min((scaled + one - 1) / one, Int32(inputSize - 1))
            return (scaled, Int(lower), Int(upper))
        }
        let heightScale = scale(inputHeight, outputHeight)
        let widthScale = scale(inputWidth, outputWidth)
        var outputIndex = 0
        for batch in 0..<batches {
            for y in 0..<outputHeight {
                let (inputY, y0, y1) = interpolation(y, heightScale, inputHeight)
                let dy = Int64(inputY - one * Int32(y0))
                for x in 0..<outputWidth {
                    let (inputX, x0, x1) = interpolation(x, widthScale, inputWidth)
                    let dx = Int64(inputX - one * Int32(x0))
                    let row0 = (batch * inputHeight + y0) * inputWidth
                    let row1 = (batch * inputHeight + y1) * inputWidth
                    let topLeft = (row0 + x0) * depth, topRight = (row0 + x1) * depth
                    let bottomLeft = (row1 + x0) * depth, bottomRight = (row1 + x1) * depth
                    let oneL = Int64(one)
                    for c in 0..<depth {
                        let sum = Int64(input[topLeft + c].widened) * (oneL - dy) * (oneL - dx)
                            + Int64(input[bottomLeft + c].widened) * dy * (oneL - dx)
                            + Int64(input[topRight + c].widened) * (oneL - dy) * dx
                            + Int64(input[bottomRight + c].widened) * dy * dx
                        let round: Int64 = sum > 0 ? (1 << 19) : -(1 << 19)
                        output[outputIndex] = T(truncatingIfNeeded: (sum + round) / (1 << 20))
                        outputIndex += 1
                    }
                }
            }
        }
    }

    private static func resizeBilinearInFloat<T: Element>(
        _ input: UnsafeBufferPointer<T>, batches: Int, inputHeight: Int, inputWidth: Int, depth: Int,
        output: UnsafeMutableBufferPointer<T>, outputHeight: Int, outputWidth: Int,
        alignCorners: Bool, halfPixelCenters: Bool
    ) {
        func scale(_ inputSize: Int, _ outputSize: Int) -> Float {
            if alignCorners && outputSize > 1 { return Float(inputSize - 1) / Float(outputSize - 1) }
            return Float(inputSize) / Float(outputSize)
        }
        func interpolation(_ index: Int, _ scale: Float, _ inputSize: Int) -> (Float, Int, Int) {
            let scaled = halfPixelCenters ? (Float(index) + 0.5) * scale - 0.5 : Float(index) * scale
            let lower = max(Int(scaled.rounded(.down)), 0)
            let upper = min(Int(scaled.rounded(.up)), inputSize - 1)
            return (scaled, lower, upper)
        }
        let heightScale = scale(inputHeight, outputHeight)
        let widthScale = scale(inputWidth, outputWidth)
        var outputIndex = 0
        for batch in 0..<batches {
            for y in 0..<outputHeight {
                let (inputY, y0, y1) = interpolation(y, heightScale, inputHeight)
                let dy = inputY - Float(y0)
                for x in 0..<outputWidth {
                    let (inputX, x0, x1) = interpolation(x, widthScale, inputWidth)
                    let dx = inputX - Float(x0)
                    let row0 = (batch * inputHeight + y0) * inputWidth
                    let row1 = (batch * inputHeight + y1) * inputWidth
                    let topLeft = (row0 + x0) * depth, topRight = (row0 + x1) * depth
                    let bottomLeft = (row1 + x0) * depth, bottomRight = (row1 + x1) * depth
                    for c in 0..<depth {
                        // Same operation order as the C++ expression, so float rounding matches.
                        var sum = Float(input[topLeft + c].widened) * (1 - dy) * (1 - dx)
                        sum = sum + Float(input[bottomLeft + c].widened) * dy * (1 - dx)
                        sum = sum + Float(input[topRight + c].widened) * (1 - dy) * dx
                        sum = sum + Float(input[bottomRight + c].widened) * dy * dx
                        let value = Int32(clampingToInt32: (sum + 0.5).rounded(.towardZero))
                        output[outputIndex] = T(clamped: min(max(value, T.minimumValue), T.maximumValue))
                        outputIndex += 1
                    }
                }
            }
        }
    }
}
