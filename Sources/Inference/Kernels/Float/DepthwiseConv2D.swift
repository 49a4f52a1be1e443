extension FloatKernels {
    /// DEPTHWISE_CONV_2D (filter [1, fh, fw, inC * depthMultiplier]; output channel ic * m + k reads
    /// input channel ic), as reference_ops::DepthwiseConv: per output, products summed over (filter y,
    /// filter x), then bias, then the clamp. The loop runs over output channels innermost, which keeps
    /// each output's summation order while touching memory contiguously.
    public static func depthwiseConv2D<FilterElement: FloatWeight, BiasElement: FloatWeight>(
        input: UnsafePointer<Float>, inputChannels: Int, depthMultiplier: Int,
        filter: UnsafePointer<FilterElement>, bias: UnsafePointer<BiasElement>?,
        output: UnsafeMutablePointer<Float>,
        geometry g: WindowGeometry, clamp: ClampRange
    ) {
        let outputChannels = inputChannels * depthMultiplier
        let inputRowStride = g.inputWidth * inputChannels
        let inputBatchStride = g.inputHeight * inputRowStride
        let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: outputChannels)
        defer { accumulator.deallocate() }
        var out = output
        for b in 0..<g.batches {
            let inputBatch = input + b * inputBatchStride
            for oy in 0..<g.outputHeight {
                let inY0 = oy * g.strideHeight - g.padTop
                for ox in 0..<g.outputWidth {
                    let inX0 = ox * g.strideWidth - g.padLeft
                    accumulator.update(repeating: 0, count: outputChannels)
                    for fy in 0..<g.filterHeight {
                        let inY = inY0 + fy * g.dilationHeight
                        if inY < 0 || inY >= g.inputHeight { continue }
                        for fx in 0..<g.filterWidth {
                            let inX = inX0 + fx * g.dilationWidth
                            if inX < 0 || inX >= g.inputWidth { continue }
                            let inputPixel = inputBatch + inY * inputRowStride + inX * inputChannels
                            let filterPixel = filter + (fy * g.filterWidth + fx) * outputChannels
                            if depthMultiplier == 1 {
                                for c in 0..<outputChannels {
                                    accumulator[c] += inputPixel[c] * filterPixel[c].floatValue
                                }
                            } else {
                                for ic in 0..<inputChannels {
                                    let x = inputPixel[ic]
                                    for m in 0..<depthMultiplier {
                                        let oc = ic * depthMultiplier + m
                                        accumulator[oc] += x * filterPixel[oc].floatValue
                                    }
                                }
                            }
                        }
                    }
                    for oc in 0..<outputChannels {
                        let biasValue = bias.map { $0[oc].floatValue } ?? 0
                        out[oc] = clamp.apply(accumulator[oc] + biasValue)
                    }
                    out += outputChannels
                }
            }
        }
    }
}
