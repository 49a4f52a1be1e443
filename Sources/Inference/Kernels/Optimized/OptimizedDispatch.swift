import TFLiteModel

extension OperatorDispatch {
    /// The optimized kernel for this operator when one applies (float32 CONV_2D; float32 DEPTHWISE_CONV_2D
    /// with multiplier 1; float32 weights in memory), else nil so the reference kernel runs.
    static func optimizedKernel(for b: OperatorBinding, threads: Int) throws -> Kernel? {
        guard b.name == "CONV_2D" || b.name == "DEPTHWISE_CONV_2D" else { return nil }
        let x = try b.input(0), w = try b.input(1), y = try b.output(0)
        let bias = b.inputs.count > 2 ? b.inputs[2] : nil
        // float16-on-the-fly keeps half-size weights on purpose; packing would widen them.
        guard x.type == .float32, y.type == .float32, w.type == .float32, !w.holdsFloat16Weights,
              bias.map({ $0.type == .float32 && !$0.holdsFloat16Weights }) ?? true,
              x.shape.count == 4, w.shape.count == 4, y.shape.count == 4 else { return nil }
        switch b.op.builtinOptions {
        case let .conv2D(o):
            let inC = x.shape[3], outC = y.shape[3]
            guard w.shape[0] == outC, w.shape[3] == inC, bias.map({ $0.elementCount == outC }) ?? true else { return nil }
            let g = windowGeometry(input: x.shape, output: y.shape, filterHeight: w.shape[1], filterWidth: w.shape[2],
                                   strideHeight: o.strideHeight, strideWidth: o.strideWidth,
                                   dilationHeight: o.dilationHeight, dilationWidth: o.dilationWidth, padding: o.padding)
            let conv = OptimizedFloatKernels.Conv2D(
                filter: w.float, bias: bias.map { UnsafePointer($0.float) }, inputChannels: inC, outputChannels: outC,
                geometry: g, clamp: try clampRange(o.activation), threads: threads)
            return { conv.run(input: x.float, output: y.float) }
        case let .depthwiseConv2D(o):
            let channels = x.shape[3]
            guard w.shape[0] == 1, w.shape[3] == channels, y.shape[3] == channels,
                  o.depthMultiplier == 0 || o.depthMultiplier == 1,
                  bias.map({ $0.elementCount == channels }) ?? true else { return nil }
            let g = windowGeometry(input: x.shape, output: y.shape, filterHeight: w.shape[1], filterWidth: w.shape[2],
                                   strideHeight: o.strideHeight, strideWidth: o.strideWidth,
                                   dilationHeight: o.dilationHeight, dilationWidth: o.dilationWidth, padding: o.padding)
            let conv = OptimizedFloatKernels.DepthwiseConv2D(
                filter: w.float, bias: bias.map { UnsafePointer($0.float) }, channels: channels, geometry: g,
                clamp: try clampRange(o.activation), threads: threads)
            return { conv.run(input: x.float, output: y.float) }
        default:
            return nil
        }
    }
}
