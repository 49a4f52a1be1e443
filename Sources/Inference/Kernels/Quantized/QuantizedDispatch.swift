// Wires the quantized reference kernels into the interpreter: for an operator on uint8/int8 tensors,
// read its parameters from the model (quantization, options, constant inputs), compute what TFLite's
// Prepare computes, check the shapes once, and return a closure over fixed pointers.
// Every check a kernel repeats when it runs is made here at load (shapes are static), so the
// closures' `try?` never discards an error.
import TFLiteModel

extension OperatorDispatch {
    /// The kernel for an operator on 8-bit quantized tensors, or nil when the operator is not one
    /// (float operators, layout operators that copy bytes of any type).
    static func quantizedKernel(for b: OperatorBinding) throws -> Kernel? {
        guard let first = b.inputs.first ?? nil else { return nil }
        let output = try b.output(0)
        let inputIs8Bit = first.type == .uint8 || first.type == .int8
        let outputIs8Bit = output.type == .uint8 || output.type == .int8
        do {
            if b.name == "QUANTIZE" {
                return outputIs8Bit ? try quantizedQuantize(b) : nil
            }
            guard inputIs8Bit else { return nil }
            switch b.name {
            case "CONV_2D", "DEPTHWISE_CONV_2D": return try quantizedConvolution(b)
            case "ADD", "MUL": return try quantizedBinary(b)
            case "CONCATENATION": return try quantizedConcatenation(b)
            case "LOGISTIC": return try quantizedLogistic(b)
            case "SOFTMAX": return try quantizedSoftmax(b)
            case "RESIZE_BILINEAR": return try quantizedResizeBilinear(b)
            case "AVERAGE_POOL_2D", "MAX_POOL_2D": return try quantizedPool(b)
            case "DEQUANTIZE": return try quantizedDequantize(b)
            default: return nil
            }
        } catch let error as Quantized.KernelError {
            throw KernelError.invalid(error.description)
        }
    }

    // MARK: - Reading the model

    private static func quantization(_ t: BoundTensor, _ what: String) throws -> Quantized.TensorQuantization {
        guard let q = t.quantization, q.isAffine, q.zeroPoints.count == q.scales.count else {
            throw KernelError.invalid("\(what) (tensor \(t.index)) has no usable scale and zero point")
        }
        guard q.zeroPoints.allSatisfy({ $0 >= Int64(Int32.min) && $0 <= Int64(Int32.max) }) else {
            throw KernelError.invalid("\(what) (tensor \(t.index)) has a zero point outside int32")
        }
        return Quantized.TensorQuantization(scales: q.scales, zeroPoints: q.zeroPoints.map { Int32($0) },
                                            quantizedDimension: q.quantizedDimension)
    }

    private static func activation(_ a: TFLiteModel.Activation) -> Quantized.FusedActivation {
        switch a {
        case .none: return .none
        case .relu: return .relu
        case .reluN1To1: return .reluN1To1
        case .relu6: return .relu6
        case .tanh: return .tanh
        case .signBit: return .signBit
        }
    }

    private static func padding(_ p: TFLiteModel.Padding) -> Quantized.Padding {
        p == .same ? .same : .valid
    }

    private static func requireType(_ t: BoundTensor, _ type: TFLiteModel.TensorType, _ what: String) throws {
        guard t.type == type else {
            throw KernelError.unsupported("\(what) (tensor \(t.index)) is \(t.type.name), expected \(type.name)")
        }
    }

    private static func buffer<T>(_ t: BoundTensor, _: T.Type) -> UnsafeBufferPointer<T> {
        UnsafeBufferPointer(start: t.data.assumingMemoryBound(to: T.self), count: t.elementCount)
    }

    private static func mutableBuffer<T>(_ t: BoundTensor, _: T.Type) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: t.data.assumingMemoryBound(to: T.self), count: t.elementCount)
    }

    // MARK: - Kernels

    private static func quantizedConvolution(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), w = try b.input(1), y = try b.output(0)
        let bias = b.inputs.count > 2 ? b.inputs[2] : nil
        try requireType(w, x.type, "\(b.name) filter")
        try requireType(y, x.type, "\(b.name) output")
        if let bias { try requireType(bias, .int32, "\(b.name) bias") }
        let kind: Quantized.ConvolutionKind
        let stride: (Int, Int), dilation: (Int, Int), pad: TFLiteModel.Padding, act: TFLiteModel.Activation
        switch b.op.builtinOptions {
        case let .conv2D(o):
            kind = .regular
            (stride, dilation, pad, act) = ((o.strideHeight, o.strideWidth), (o.dilationHeight, o.dilationWidth), o.padding, o.activation)
        case let .depthwiseConv2D(o):
            let inputDepth = x.shape.count == 4 ? x.shape[3] : 0
            let multiplier = inputDepth > 0 && w.shape.count == 4 ? w.shape[3] / inputDepth : 0
            if o.depthMultiplier != 0 && o.depthMultiplier != multiplier {
                throw KernelError.invalid("depth_multiplier \(o.depthMultiplier) disagrees with filter \(w.shape) and input \(x.shape)")
            }
            kind = .depthwise(depthMultiplier: multiplier)
            (stride, dilation, pad, act) = ((o.strideHeight, o.strideWidth), (o.dilationHeight, o.dilationWidth), o.padding, o.activation)
        default:
            throw KernelError.invalid("missing convolution options")
        }
        func make<T: Quantized.Element>(_: T.Type) throws -> Kernel {
            let params = try Quantized.convolutionParams(
                kind, elementType: T.self, input: try quantization(x, "input"), inputShape: x.shape,
                filter: try quantization(w, "filter"), filterShape: w.shape, output: try quantization(y, "output"),
                strideHeight: stride.0, strideWidth: stride.1, dilationHeight: dilation.0, dilationWidth: dilation.1,
                padding: padding(pad), activation: activation(act))
            let expected = try Quantized.convolutionOutputShape(
                kind, inputShape: x.shape, filterShape: w.shape, strideHeight: stride.0, strideWidth: stride.1,
                dilationHeight: dilation.0, dilationWidth: dilation.1, padding: padding(pad))
            guard expected == y.shape else {
                throw KernelError.invalid("output shape \(y.shape), expected \(expected)")
            }
            let outputChannels = y.shape[3]
            if let bias, bias.elementCount != outputChannels {
                throw KernelError.invalid("bias has \(bias.elementCount) values for \(outputChannels) channels")
            }
            let input = buffer(x, T.self), filter = buffer(w, T.self), out = mutableBuffer(y, T.self)
            let biasValues = bias.map { buffer($0, Int32.self) }
            let (xs, ws, ys) = (x.shape, w.shape, y.shape)
            if case .regular = kind {
                try Quantized.checkConv2D(inputShape: xs, filterShape: ws, outputShape: ys, params: params)
                return {
                    Quantized.conv2DUnchecked(input: input, inputShape: xs, filter: filter, filterShape: ws,
                                              bias: biasValues, output: out, outputShape: ys, params: params)
                }
            }
            try Quantized.checkDepthwiseConv2D(inputShape: xs, filterShape: ws, outputShape: ys, params: params)
            return {
                Quantized.depthwiseConv2DUnchecked(input: input, inputShape: xs, filter: filter, filterShape: ws,
                                                   bias: biasValues, output: out, outputShape: ys, params: params)
            }
        }
        return x.type == .uint8 ? try make(UInt8.self) : try make(Int8.self)
    }

    private static func quantizedBinary(_ b: OperatorBinding) throws -> Kernel {
        let l = try b.input(0), r = try b.input(1), y = try b.output(0)
        try requireType(r, l.type, "\(b.name) second input")
        try requireType(y, l.type, "\(b.name) output")
        let act: TFLiteModel.Activation
        switch b.op.builtinOptions {
        case let .add(a), let .mul(a): act = a
        default: throw KernelError.invalid("missing options")
        }
        func make<T: Quantized.Element>(_: T.Type) throws -> Kernel {
            let (lq, rq, yq) = (try quantization(l, "first input"), try quantization(r, "second input"), try quantization(y, "output"))
            let (a, c, out) = (buffer(l, T.self), buffer(r, T.self), mutableBuffer(y, T.self))
            let (ls, rs, ys) = (l.shape, r.shape, y.shape)
            // Check the broadcast once; the shapes never change afterwards.
            _ = try Quantized.Broadcast(ls, rs, ys, b.name)
            if b.name == "ADD" {
                let params = try Quantized.addParams(elementType: T.self, input1: lq, input2: rq, output: yq, activation: activation(act))
                return { try? Quantized.add(a, shape: ls, c, shape: rs, output: out, outputShape: ys, params: params) }
            }
            let params = try Quantized.mulParams(elementType: T.self, input1: lq, input2: rq, output: yq, activation: activation(act))
            return { try? Quantized.mul(a, shape: ls, c, shape: rs, output: out, outputShape: ys, params: params) }
        }
        return l.type == .uint8 ? try make(UInt8.self) : try make(Int8.self)
    }

    private static func quantizedConcatenation(_ b: OperatorBinding) throws -> Kernel {
        guard case let .concatenation(axis, act) = b.op.builtinOptions else { throw KernelError.invalid("missing options") }
        guard act == .none else { throw KernelError.unsupported("CONCATENATION with a fused activation") }
        let y = try b.output(0)
        let xs = b.inputs.compactMap { $0 }
        for x in xs { try requireType(x, y.type, "CONCATENATION input") }
        func make<T: Quantized.Element>(_: T.Type) throws -> Kernel {
            let inputs = try xs.map {
                Quantized.ConcatenationInput(data: buffer($0, T.self), shape: $0.shape, quantization: try quantization($0, "input"))
            }
            let (out, shape, q) = (mutableBuffer(y, T.self), y.shape, try quantization(y, "output"))
            // A first run checks shapes and quantization; results are overwritten by every invocation.
            try Quantized.concatenation(inputs, axis: axis, output: out, outputShape: shape, outputQuantization: q)
            return { try? Quantized.concatenation(inputs, axis: axis, output: out, outputShape: shape, outputQuantization: q) }
        }
        return y.type == .uint8 ? try make(UInt8.self) : try make(Int8.self)
    }

    private static func quantizedLogistic(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        try requireType(y, x.type, "LOGISTIC output")
        guard x.elementCount == y.elementCount else { throw KernelError.invalid("LOGISTIC changes the element count") }
        func make<T: Quantized.Element>(_: T.Type) throws -> Kernel {
            let table = try Quantized.logisticTable(elementType: T.self, input: try quantization(x, "input"),
                                                    output: try quantization(y, "output"))
            let (input, out) = (buffer(x, T.self), mutableBuffer(y, T.self))
            return { try? table.apply(input, out) }
        }
        return x.type == .uint8 ? try make(UInt8.self) : try make(Int8.self)
    }

    private static func quantizedSoftmax(_ b: OperatorBinding) throws -> Kernel {
        guard case let .softmax(beta) = b.op.builtinOptions else { throw KernelError.invalid("missing SoftmaxOptions") }
        let x = try b.input(0), y = try b.output(0)
        try requireType(y, x.type, "SOFTMAX output")
        let depth = x.shape.last ?? 1
        func make<T: Quantized.Element>(_: T.Type) throws -> Kernel {
            let params = try Quantized.softmaxParams(elementType: T.self, beta: beta, input: try quantization(x, "input"),
                                                     output: try quantization(y, "output"))
            guard depth > 0, x.elementCount % depth == 0, y.elementCount == x.elementCount else { throw KernelError.invalid("SOFTMAX on shape \(x.shape)") }
            let (input, out) = (buffer(x, T.self), mutableBuffer(y, T.self))
            return { try? Quantized.softmax(input, depth: depth, output: out, params: params) }
        }
        return x.type == .uint8 ? try make(UInt8.self) : try make(Int8.self)
    }

    private static func quantizedResizeBilinear(_ b: OperatorBinding) throws -> Kernel {
        guard case let .resizeBilinear(alignCorners, halfPixelCenters) = b.op.builtinOptions else {
            throw KernelError.invalid("missing ResizeBilinearOptions")
        }
        let x = try b.input(0), y = try b.output(0)
        try requireType(y, x.type, "RESIZE_BILINEAR output")
        guard x.shape.count == 4, y.shape.count == 4, x.shape[0] == y.shape[0], x.shape[3] == y.shape[3],
              y.shape[1] >= 1, y.shape[2] >= 1 else {
            throw KernelError.invalid("RESIZE_BILINEAR from \(x.shape) to \(y.shape)")
        }
        guard !(alignCorners && halfPixelCenters) else {
            throw KernelError.invalid("RESIZE_BILINEAR with both align_corners and half_pixel_centers")
        }
        let (shape, height, width) = (x.shape, y.shape[1], y.shape[2])
        func make<T: Quantized.Element>(_: T.Type) -> Kernel {
            let (input, out) = (buffer(x, T.self), mutableBuffer(y, T.self))
            return {
                try? Quantized.resizeBilinear(input, inputShape: shape, output: out, outputHeight: height,
                                              outputWidth: width, alignCorners: alignCorners, halfPixelCenters: halfPixelCenters)
            }
        }
        return x.type == .uint8 ? make(UInt8.self) : make(Int8.self)
    }

    private static func quantizedPool(_ b: OperatorBinding) throws -> Kernel {
        guard case let .pool2D(o) = b.op.builtinOptions else { throw KernelError.invalid("missing Pool2DOptions") }
        let x = try b.input(0), y = try b.output(0)
        try requireType(y, x.type, "\(b.name) output")
        let (xq, yq) = (try quantization(x, "input"), try quantization(y, "output"))
        guard xq == yq else { throw KernelError.unsupported("\(b.name) with differing input and output quantization") }
        let kind: Quantized.PoolKind = b.name == "MAX_POOL_2D" ? .maximum : .average
        func make<T: Quantized.Element>(_: T.Type) throws -> Kernel {
            let (params, expected) = try Quantized.poolParams(
                elementType: T.self, inputShape: x.shape, output: yq, filterHeight: o.filterHeight,
                filterWidth: o.filterWidth, strideHeight: o.strideHeight, strideWidth: o.strideWidth,
                padding: padding(o.padding), activation: activation(o.activation))
            guard expected == y.shape else { throw KernelError.invalid("output shape \(y.shape), expected \(expected)") }
            let (input, out, xs) = (buffer(x, T.self), mutableBuffer(y, T.self), x.shape)
            return { try? Quantized.pool2D(kind, input: input, inputShape: xs, output: out, outputShape: expected, params: params) }
        }
        return x.type == .uint8 ? try make(UInt8.self) : try make(Int8.self)
    }

    private static func quantizedQuantize(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        let yq = try quantization(y, "output")
        guard x.elementCount == y.elementCount else { throw KernelError.invalid("QUANTIZE changes the element count") }
        func make<Out: Quantized.Element>(_: Out.Type) throws -> Kernel {
            let out = mutableBuffer(y, Out.self)
            switch x.type {
            case .float32:
                try yq.requirePerTensor("QUANTIZE output")
                let input = buffer(x, Float.self)
                return { try? Quantized.quantize(input, output: out, quantization: yq) }
            case .uint8, .int8:
                let xq = try quantization(x, "input")
                try yq.requirePerTensor("QUANTIZE output")
                let multiplier = try Quantized.requantizeMultiplier(input: xq, output: yq)
                func from<In: Quantized.Element>(_: In.Type) -> Kernel {
                    let input = buffer(x, In.self)
                    return {
                        try? Quantized.requantize(input, inputZeroPoint: xq.zeroPoint, output: out,
                                                  outputZeroPoint: yq.zeroPoint, multiplier: multiplier)
                    }
                }
                return x.type == .uint8 ? from(UInt8.self) : from(Int8.self)
            default:
                throw KernelError.unsupported("QUANTIZE from \(x.type.name)")
            }
        }
        return y.type == .uint8 ? try make(UInt8.self) : try make(Int8.self)
    }

    private static func quantizedDequantize(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        try requireType(y, .float32, "DEQUANTIZE output")
        let xq = try quantization(x, "input")
        guard !xq.isPerChannel else { throw KernelError.unsupported("per-channel DEQUANTIZE of 8-bit tensors") }
        try xq.requirePerTensor("DEQUANTIZE input")
        guard x.elementCount == y.elementCount else { throw KernelError.invalid("DEQUANTIZE changes the element count") }
        let out = mutableBuffer(y, Float.self)
        func make<T: Quantized.Element>(_: T.Type) -> Kernel {
            let input = buffer(x, T.self)
            return { try? Quantized.dequantize(input, quantization: xq, output: out) }
        }
        return x.type == .uint8 ? make(UInt8.self) : make(Int8.self)
    }
}
