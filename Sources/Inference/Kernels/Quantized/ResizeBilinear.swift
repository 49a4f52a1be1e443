// RESIZE_BILINEAR on 8-bit tensors in 10-bit fixed-point coordinates, as
// reference_ops::ResizeBilinearInteger (LiteRT's reference kernel for int8) computes it. The four
// weighted neighbours are summed in int64 with 20 fractional bits and rounded half away from zero.

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
}
