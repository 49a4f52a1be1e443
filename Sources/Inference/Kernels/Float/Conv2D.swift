extension FloatKernels {
    /// CONV_2D (NHWC input, filter [outC, fh, fw, inC], optional bias [outC]), as reference_ops::Conv:
    /// for each output the products are summed over (filter y, filter x, input channel) in that order,
    /// then the bias is added and the fused activation clamps.
    public static func conv2D<FilterElement: FloatWeight, BiasElement: FloatWeight>(
        input: UnsafePointer<Float>, inputChannels: Int,
        filter: UnsafePointer<FilterElement>, bias: UnsafePointer<BiasElement>?,
        output: UnsafeMutablePointer<Float>, outputChannels: Int,
        geometry g: WindowGeometry, clamp: ClampRange
    ) {
        let inputRowStride = g.inputWidth * inputChannels
        let inputBatchStride = g.inputHeight * inputRowStride
        let filterPerOutputChannel = g.filterHeight * g.filterWidth * inputChannels
        var out = output
        for b in 0..<g.batches {
            let inputBatch = input + b * inputBatchStride
            for oy in 0..<g.outputHeight {
                let inY0 = oy * g.strideHeight - g.padTop
                for ox in 0..<g.outputWidth {
                    let inX0 = ox * g.strideWidth - g.padLeft
                    for oc in 0..<outputChannels {
                        let filterBase = filter + oc * filterPerOutputChannel
                        var total: Float = 0
                        for fy in 0..<g.filterHeight {
                            let inY = inY0 + fy * g.dilationHeight
                            if inY < 0 || inY >= g.inputHeight { continue }
                            for fx in 0..<g.filterWidth {
                                let inX = inX0 + fx * g.dilationWidth
                                if inX < 0 || inX >= g.inputWidth { continue }
                                let inputPixel = inputBatch + inY * inputRowStride + inX * inputChannels
                                let filterPixel = filterBase + (fy * g.filterWidth + fx) * inputChannels
                                for ic in 0..<inputChannels {
                                    total += inputPixel[ic] * filterPixel[ic].floatValue
                                }
                            }
                        }
                        let biasValue = bias.map { $0[oc].floatValue } ?? 0
                        out[oc] = clamp.apply(total + biasValue)
                    }
                    out += outputChannels
                }
            }
        }
    }
}
