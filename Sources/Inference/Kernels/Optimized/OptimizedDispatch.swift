import TFLiteModel

extension OperatorDispatch {
    /// The optimized kernel for this operator when one applies (float32 CONV_2D; float32 DEPTHWISE_CONV_2D
    /// with multiplier 1; float32 weights in memory; same-shape float32 ADD, MUL, SUB), else nil so the
    /// reference kernel runs.
    static func optimizedKernel(for b: OperatorBinding, threads: Int) throws -> Kernel? {
        if b.name == "ADD" || b.name == "MUL" || b.name == "SUB" { return optimizedFloatElementwise(b, threads: threads) }
        guard b.name == "CONV_2D" || b.name == "DEPTHWISE_CONV_2D" else { return nil }
        let x = try b.input(0), w = try b.input(1), y = try b.output(0)
        let bias = b.inputs.count > 2 ? b.inputs[2] : nil
        if x.type == .int8 || x.type == .uint8 { return optimizedQuantizedKernel(b, x, w, bias, y, threads: threads) }
        if let conv = try optimizedFloatConv2D(b, threads: threads) {
            return { conv.run(input: x.float, output: y.float) }
        }
        if let conv = try optimizedFloatDepthwise(b, threads: threads) {
            return { conv.run(input: x.float, output: y.float) }
        }
        return nil
    }

    /// The optimized float32 CONV_2D for this operator (its weights packed), else nil. Fused chains
    /// (FusedFloatChain.swift) build their stages with it too.
    static func optimizedFloatConv2D(_ b: OperatorBinding, threads: Int) throws -> OptimizedFloatKernels.Conv2D? {
        guard b.name == "CONV_2D", case let .conv2D(o) = b.op.builtinOptions,
              let (x, w, bias, y) = floatConvolutionTensors(b) else { return nil }
        let inC = x.shape[3], outC = y.shape[3]
        guard w.shape[0] == outC, w.shape[3] == inC, bias.map({ $0.elementCount == outC }) ?? true else { return nil }
        let g = windowGeometry(input: x.shape, output: y.shape, filterHeight: w.shape[1], filterWidth: w.shape[2],
                               strideHeight: o.strideHeight, strideWidth: o.strideWidth,
                               dilationHeight: o.dilationHeight, dilationWidth: o.dilationWidth, padding: o.padding)
        return OptimizedFloatKernels.Conv2D(
            filter: w.float, bias: bias.map { UnsafePointer($0.float) }, inputChannels: inC, outputChannels: outC,
            geometry: g, clamp: try clampRange(o.activation), threads: threads)
    }

    /// The optimized float32 DEPTHWISE_CONV_2D (multiplier 1) for this operator, else nil.
    static func optimizedFloatDepthwise(_ b: OperatorBinding, threads: Int) throws -> OptimizedFloatKernels.DepthwiseConv2D? {
        guard b.name == "DEPTHWISE_CONV_2D", case let .depthwiseConv2D(o) = b.op.builtinOptions,
              let (x, w, bias, y) = floatConvolutionTensors(b) else { return nil }
        let channels = x.shape[3]
        guard w.shape[0] == 1, w.shape[3] == channels, y.shape[3] == channels,
              o.depthMultiplier == 0 || o.depthMultiplier == 1,
              bias.map({ $0.elementCount == channels }) ?? true else { return nil }
        let g = windowGeometry(input: x.shape, output: y.shape, filterHeight: w.shape[1], filterWidth: w.shape[2],
                               strideHeight: o.strideHeight, strideWidth: o.strideWidth,
                               dilationHeight: o.dilationHeight, dilationWidth: o.dilationWidth, padding: o.padding)
        return OptimizedFloatKernels.DepthwiseConv2D(
            filter: w.float, bias: bias.map { UnsafePointer($0.float) }, channels: channels, geometry: g,
            clamp: try clampRange(o.activation), threads: threads)
    }

    /// Input, filter, bias and output of a float32 convolution with float32 weights in memory, all 4-D.
    private static func floatConvolutionTensors(_ b: OperatorBinding)
        -> (BoundTensor, BoundTensor, BoundTensor?, BoundTensor)? {
        guard let x = try? b.input(0), let w = try? b.input(1), let y = try? b.output(0) else { return nil }
        let bias = b.inputs.count > 2 ? b.inputs[2] : nil
        // float16-on-the-fly keeps half-size weights on purpose; packing would widen them.
        guard x.type == .float32, y.type == .float32, w.type == .float32, !w.holdsFloat16Weights,
              bias.map({ $0.type == .float32 && !$0.holdsFloat16Weights }) ?? true,
              x.shape.count == 4, w.shape.count == 4, y.shape.count == 4 else { return nil }
        return (x, w, bias, y)
    }

    /// 8-bit convolutions whose parameters the reference accepts; anything unusual (groups, depth
    /// multiplier > 1, parameters the reference rejects) returns nil so the reference kernel runs or
    /// reports the problem.
    private static func optimizedQuantizedKernel(_ b: OperatorBinding, _ x: BoundTensor, _ w: BoundTensor,
                                                 _ bias: BoundTensor?, _ y: BoundTensor, threads: Int) -> Kernel? {
        switch optimizedQuantizedConvolution(b, x, w, bias, y, threads: threads) {
        case let .regular(conv)?: return { conv.run(input: x.data, output: y.data) }
        case let .depthwise(conv)?: return { conv.run(input: x.data, output: y.data) }
        case nil: return nil
        }
    }

    /// An optimized 8-bit convolution layer, before it is bound to its tensors (fused chains run its parts).
    enum QuantizedConvolution {
        case regular(OptimizedQuantizedKernels.Conv2D)
        case depthwise(OptimizedQuantizedKernels.DepthwiseConv2D)
    }

    static func optimizedQuantizedConvolution(_ b: OperatorBinding, _ x: BoundTensor, _ w: BoundTensor,
                                              _ bias: BoundTensor?, _ y: BoundTensor,
                                              threads: Int) -> QuantizedConvolution? {
        guard w.type == x.type, y.type == x.type, bias.map({ $0.type == .int32 }) ?? true,
              x.shape.count == 4, w.shape.count == 4, y.shape.count == 4, x.shape[0] == y.shape[0],
              let xq = tensorQuantization(x), let wq = tensorQuantization(w), let yq = tensorQuantization(y)
        else { return nil }
        let isSigned = x.type == .int8
        let kind: Quantized.ConvolutionKind
        let stride: (Int, Int), dilation: (Int, Int), same: Bool, activation: TFLiteModel.Activation
        switch b.op.builtinOptions {
        case let .conv2D(o):
            guard w.shape[3] == x.shape[3], w.shape[0] == y.shape[3] else { return nil }
            kind = .regular
            (stride, dilation, same, activation) = ((o.strideHeight, o.strideWidth), (o.dilationHeight, o.dilationWidth),
                                                    o.padding == .same, o.activation)
        case let .depthwiseConv2D(o):
            guard w.shape[0] == 1, w.shape[3] == x.shape[3], y.shape[3] == x.shape[3],
                  o.depthMultiplier == 0 || o.depthMultiplier == 1 else { return nil }
            kind = .depthwise(depthMultiplier: 1)
            (stride, dilation, same, activation) = ((o.strideHeight, o.strideWidth), (o.dilationHeight, o.dilationWidth),
                                                    o.padding == .same, o.activation)
        default:
            return nil
        }
        let fused: Quantized.FusedActivation
        switch activation {
        case .none: fused = .none
        case .relu: fused = .relu
        case .relu6: fused = .relu6
        case .reluN1To1: fused = .reluN1To1
        default: return nil
        }
        func params<T: Quantized.Element>(_: T.Type) -> Quantized.ConvParams? {
            guard let p = try? Quantized.convolutionParams(
                kind, elementType: T.self, input: xq, inputShape: x.shape, filter: wq, filterShape: w.shape, output: yq,
                strideHeight: stride.0, strideWidth: stride.1, dilationHeight: dilation.0, dilationWidth: dilation.1,
                padding: same ? .same : .valid, activation: fused),
                let expected = try? Quantized.convolutionOutputShape(
                    kind, inputShape: x.shape, filterShape: w.shape, strideHeight: stride.0, strideWidth: stride.1,
                    dilationHeight: dilation.0, dilationWidth: dilation.1, padding: same ? .same : .valid),
                expected == y.shape, p.outputMultipliers.count == y.shape[3] else { return nil }
            return p
        }
        guard let p = isSigned ? params(Int8.self) : params(UInt8.self),
              bias.map({ $0.elementCount == y.shape[3] }) ?? true else { return nil }
        let biasValues = bias.map { UnsafePointer($0.data.assumingMemoryBound(to: Int32.self)) }
        if case .regular = kind {
            return OptimizedQuantizedKernels.Conv2D(
                filter: w.data, bias: biasValues, isSigned: isSigned, inputShape: x.shape, filterShape: w.shape,
                outputShape: y.shape, params: p, threads: threads).map { .regular($0) }
        }
        return .depthwise(OptimizedQuantizedKernels.DepthwiseConv2D(
            filter: w.data, bias: biasValues, isSigned: isSigned, inputShape: x.shape, filterShape: w.shape,
            outputShape: y.shape, params: p, threads: threads))
    }

    private static func tensorQuantization(_ t: BoundTensor) -> Quantized.TensorQuantization? {
        guard let q = t.quantization, q.isAffine, q.zeroPoints.count == q.scales.count,
              q.zeroPoints.allSatisfy({ $0 >= Int64(Int32.min) && $0 <= Int64(Int32.max) }) else { return nil }
        return Quantized.TensorQuantization(scales: q.scales, zeroPoints: q.zeroPoints.map { Int32($0) },
                                            quantizedDimension: q.quantizedDimension)
    }
}
