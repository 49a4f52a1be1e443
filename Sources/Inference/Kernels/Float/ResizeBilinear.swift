extension FloatKernels {
    public struct ResizeBilinearParams: Sendable, Equatable {
        public var batches: Int, inputHeight: Int, inputWidth: Int, channels: Int
        public var outputHeight: Int, outputWidth: Int
        public var alignCorners: Bool, halfPixelCenters: Bool

        public init(batches: Int, inputHeight: Int, inputWidth: Int, channels: Int, outputHeight: Int,
                    outputWidth: Int, alignCorners: Bool, halfPixelCenters: Bool) {
            self.batches = batches
            self.inputHeight = inputHeight
            self.inputWidth = inputWidth
            self.channels = channels
            self.outputHeight = outputHeight
            self.outputWidth = outputWidth
            self.alignCorners = alignCorners
            self.halfPixelCenters = halfPixelCenters
        }
    }

    /// Source coordinate of output index `value` and its two neighbours, as TFLite's
    /// ComputeInterpolationValues: (v + 0.5) * scale - 0.5 with half-pixel centers, else v * scale;
    /// lower = max(floor, 0), upper = min(ceil, size - 1).
    @inline(__always)
    static func interpolationSource(_ value: Int, scale: Float, halfPixelCenters: Bool,
                                    inputSize: Int) -> (position: Float, lower: Int, upper: Int) {
        let position = halfPixelCenters ? (Float(value) + 0.5) * scale - 0.5 : Float(value) * scale
        let lower = max(Int(position.rounded(.down)), 0)
        let upper = min(Int(position.rounded(.up)), inputSize - 1)
        return (position, lower, upper)
    }

    /// RESIZE_BILINEAR (NHWC) as reference_ops::ResizeBilinear for floats. Scale is in/out, or
    /// (in-1)/(out-1) with align_corners; weights are (1 - (y - y0)) and (y - y0) with y0 the clamped
    /// lower neighbour, exactly as TFLite writes the sum.
    public static func resizeBilinear(_ input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                      params p: ResizeBilinearParams) {
        var heightScale = Float(p.inputHeight) / Float(p.outputHeight)
        var widthScale = Float(p.inputWidth) / Float(p.outputWidth)
        if p.alignCorners && p.outputHeight > 1 {
            heightScale = Float(p.inputHeight - 1) / Float(p.outputHeight - 1)
        }
        if p.alignCorners && p.outputWidth > 1 {
            widthScale = Float(p.inputWidth - 1) / Float(p.outputWidth - 1)
        }
        let xs = (0..<p.outputWidth).map {
            interpolationSource($0, scale: widthScale, halfPixelCenters: p.halfPixelCenters, inputSize: p.inputWidth)
        }
        let c = p.channels
        var out = output
        for b in 0..<p.batches {
            let image = input + b * p.inputHeight * p.inputWidth * c
            for y in 0..<p.outputHeight {
                let (inputY, y0, y1) = interpolationSource(y, scale: heightScale,
                                                           halfPixelCenters: p.halfPixelCenters,
                                                           inputSize: p.inputHeight)
                let dy = inputY - Float(y0)
                for (inputX, x0, x1) in xs {
                    let dx = inputX - Float(x0)
                    let topLeft = image + (y0 * p.inputWidth + x0) * c
                    let bottomLeft = image + (y1 * p.inputWidth + x0) * c
                    let topRight = image + (y0 * p.inputWidth + x1) * c
                    let bottomRight = image + (y1 * p.inputWidth + x1) * c
                    for k in 0..<c {
                        out[k] = topLeft[k] * (1 - dy) * (1 - dx) + bottomLeft[k] * dy * (1 - dx)
                            + topRight[k] * (1 - dy) * dx + bottomRight[k] * dy * dx
                    }
                    out += c
                }
            }
        }
    }
}
