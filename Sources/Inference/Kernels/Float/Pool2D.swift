extension FloatKernels {
    /// AVERAGE_POOL_2D as reference_ops::AveragePool: the mean over the window's in-bounds inputs only
    /// (padding is not counted), then the clamp.
    public static func averagePool2D(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                     channels: Int, geometry g: WindowGeometry, clamp: ClampRange) {
        pool(input: input, output: output, channels: channels, geometry: g) { window in
            var total: Float = 0
            var count = 0
            window { total += $0; count += 1 }
            return clamp.apply(count > 0 ? total / Float(count) : 0)
        }
    }

    /// MAX_POOL_2D as reference_ops::MaxPool: the maximum over the window's in-bounds inputs, then the clamp.
    public static func maxPool2D(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                 channels: Int, geometry g: WindowGeometry, clamp: ClampRange) {
        pool(input: input, output: output, channels: channels, geometry: g) { window in
            var maximum = -Float.greatestFiniteMagnitude
            window { maximum = max(maximum, $0) }
            return clamp.apply(maximum)
        }
    }

    /// Walks every output of a pooling op; `reduce` receives a function that visits the window's
    /// in-bounds input values.
    @inline(__always)
    private static func pool(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, channels: Int,
                             geometry g: WindowGeometry,
                             reduce: (((Float) -> Void) -> Void) -> Float) {
        var out = output
        for b in 0..<g.batches {
            let inputBatch = input + b * g.inputHeight * g.inputWidth * channels
            for oy in 0..<g.outputHeight {
                let inY0 = oy * g.strideHeight - g.padTop
                let fyStart = max(0, -inY0), fyEnd = min(g.filterHeight, g.inputHeight - inY0)
                for ox in 0..<g.outputWidth {
                    let inX0 = ox * g.strideWidth - g.padLeft
                    let fxStart = max(0, -inX0), fxEnd = min(g.filterWidth, g.inputWidth - inX0)
                    for c in 0..<channels {
                        out[c] = reduce { visit in
                            if fyStart < fyEnd && fxStart < fxEnd {
                                for fy in fyStart..<fyEnd {
                                    for fx in fxStart..<fxEnd {
                                        visit(inputBatch[((inY0 + fy) * g.inputWidth + inX0 + fx) * channels + c])
                                    }
                                }
                            }
                        }
                    }
                    out += channels
                }
            }
        }
    }
}
