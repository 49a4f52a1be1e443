import TFLiteModel

/// The one place that maps an operator (name, tensor types, options) to a kernel. A kernel is a
/// closure over fixed pointers, built once at load and run at every invocation.
///
/// To plug in more kernels, add a case
/// here: read the parameters from the binding, return a closure calling the pure function.
enum OperatorDispatch {
    /// Throws only for what the data can get wrong at run time (e.g. NaN boxes in the post-process op).
    typealias Kernel = () throws -> Void

    /// `threads`: how many threads the optimized kernels split their work across; `optimized: false`
    /// runs only the reference kernels.
    static func kernel(for b: OperatorBinding, threads: Int = 1, optimized: Bool = true) throws -> Kernel {
        if optimized, let kernel = try optimizedKernel(for: b, threads: threads) { return kernel }
        if optimized, let layer = try optimizedLayerKernel(for: b, threads: threads) { return layer }
        if let quantized = try quantizedKernel(for: b) { return quantized }
        switch b.name {
        case "CONV_2D": return try conv2D(b)
        case "DEPTHWISE_CONV_2D": return try depthwiseConv2D(b)
        case "ADD", "MUL", "SUB": return try elementwiseBinary(b)
        case "AVERAGE_POOL_2D", "MAX_POOL_2D": return try pool2D(b)
        case "LOGISTIC": return try logistic(b)
        case "SOFTMAX": return try softmax(b)
        case "RESIZE_BILINEAR": return try resizeBilinear(b)
        case "MEAN": return try mean(b)
        case "DEQUANTIZE": return try dequantize(b)
        case "QUANTIZE": return try quantize(b)
        case "RESHAPE": return try reshape(b)
        case "CONCATENATION", "PACK": return try concatenation(b)
        case "PAD": return try pad(b)
        case "SHAPE": return try shape(b)
        case "STRIDED_SLICE": return try stridedSlice(b)
        case "TILE": return try tile(b)
        case "TFLite_Detection_PostProcess": return try detectionPostProcess(b)
        default:
            throw KernelError.unsupported("no kernel for operator \(b.name)")
        }
    }

    // MARK: - Helpers

    static func requireFloat(_ tensors: BoundTensor..., op: String) throws {
        for t in tensors where t.type != .float32 {
            if t.type == .uint8 || t.type == .int8 || t.type == .int16 {
                throw KernelError.unsupported("\(op) on \(t.type.name) tensors: quantized kernels are not wired yet")
            }
            throw KernelError.unsupported("\(op) on \(t.type.name) tensors is not supported")
        }
    }

    static func clampRange(_ activation: TFLiteModel.Activation) throws -> ClampRange {
        switch activation {
        case .none: return .unbounded
        case .relu: return .relu
        case .relu6: return .relu6
        case .reluN1To1: return .reluN1To1
        case .tanh, .signBit: throw KernelError.unsupported("fused activation \(activation) is not supported")
        }
    }

    static func windowGeometry(input x: [Int], output y: [Int], filterHeight: Int, filterWidth: Int,
                               strideHeight: Int, strideWidth: Int, dilationHeight: Int, dilationWidth: Int,
                               padding: TFLiteModel.Padding) -> WindowGeometry {
        let same = padding == .same
        let padTop = WindowGeometry.outputSizeAndPadding(inputSize: x[1], filterSize: filterHeight,
                                                         stride: strideHeight, dilation: dilationHeight,
                                                         same: same).padBefore
        let padLeft = WindowGeometry.outputSizeAndPadding(inputSize: x[2], filterSize: filterWidth,
                                                          stride: strideWidth, dilation: dilationWidth,
                                                          same: same).padBefore
        return WindowGeometry(batches: x[0], inputHeight: x[1], inputWidth: x[2], outputHeight: y[1],
                              outputWidth: y[2], filterHeight: filterHeight, filterWidth: filterWidth,
                              strideHeight: strideHeight, strideWidth: strideWidth, dilationHeight: dilationHeight,
                              dilationWidth: dilationWidth, padTop: padTop, padLeft: padLeft)
    }

    /// Integer values of a small int32/int64 tensor (shapes, axes, paddings).
    static func intValues(_ t: BoundTensor) throws -> [Int] {
        switch t.type {
        case .int32: return (0..<t.elementCount).map { Int(t.data.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        case .int64: return (0..<t.elementCount).map { Int(t.data.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        default: throw KernelError.invalid("tensor \(t.index) must be INT32 or INT64, is \(t.type.name)")
        }
    }

    static func elementSize(_ t: BoundTensor) throws -> Int {
        guard let size = t.type.byteSize else { throw KernelError.unsupported("\(t.type.name) tensors are not supported") }
        return size
    }

    /// Float weights (or float16 weights read on the fly) for a convolution, with an optional bias.
    private static func withWeights(filter: BoundTensor, bias: BoundTensor?, outputChannels: Int,
                                    _ body: @escaping (WeightPointers) -> Void) throws -> Kernel {
        if let bias {
            guard bias.type == .float32 else { throw KernelError.unsupported("bias of type \(bias.type.name)") }
            guard bias.elementCount == outputChannels else {
                throw KernelError.invalid("bias has \(bias.elementCount) values for \(outputChannels) output channels")
            }
        }
        guard filter.type == .float32 else {
            let quantized = filter.type == .int8 || filter.type == .uint8
            throw KernelError.unsupported("filter of type \(filter.type.name)"
                + (quantized ? ": quantized kernels are not wired yet" : ""))
        }
        let weights = WeightPointers(filter: filter, bias: bias)
        return { body(weights) }
    }

    struct WeightPointers {
        let filter: BoundTensor
        let bias: BoundTensor?
    }

    // MARK: - Convolutions

    static func conv2D(_ b: OperatorBinding) throws -> Kernel {
        guard case let .conv2D(o) = b.op.builtinOptions else { throw KernelError.invalid("missing Conv2DOptions") }
        let x = try b.input(0), w = try b.input(1), y = try b.output(0)
        let bias = b.inputs.count > 2 ? b.inputs[2] : nil
        try requireFloat(x, y, op: b.name)
        let clamp = try clampRange(o.activation)
        let g = windowGeometry(input: x.shape, output: y.shape, filterHeight: w.shape[1], filterWidth: w.shape[2],
                               strideHeight: o.strideHeight, strideWidth: o.strideWidth,
                               dilationHeight: o.dilationHeight, dilationWidth: o.dilationWidth, padding: o.padding)
        let inC = x.shape[3], outC = y.shape[3]
        return try withWeights(filter: w, bias: bias, outputChannels: outC) { p in
            switch (p.filter.holdsFloat16Weights, p.bias?.holdsFloat16Weights ?? false) {
            case (false, false):
                FloatKernels.conv2D(input: x.float, inputChannels: inC, filter: p.filter.float, bias: p.bias?.float,
                                    output: y.float, outputChannels: outC, geometry: g, clamp: clamp)
            case (true, false):
                FloatKernels.conv2D(input: x.float, inputChannels: inC, filter: p.filter.float16, bias: p.bias?.float,
                                    output: y.float, outputChannels: outC, geometry: g, clamp: clamp)
            case (false, true):
                FloatKernels.conv2D(input: x.float, inputChannels: inC, filter: p.filter.float,
                                    bias: p.bias?.float16, output: y.float, outputChannels: outC, geometry: g,
                                    clamp: clamp)
            case (true, true):
                FloatKernels.conv2D(input: x.float, inputChannels: inC, filter: p.filter.float16,
                                    bias: p.bias?.float16, output: y.float, outputChannels: outC, geometry: g,
                                    clamp: clamp)
            }
        }
    }

    static func depthwiseConv2D(_ b: OperatorBinding) throws -> Kernel {
        guard case let .depthwiseConv2D(o) = b.op.builtinOptions else {
            throw KernelError.invalid("missing DepthwiseConv2DOptions")
        }
        let x = try b.input(0), w = try b.input(1), y = try b.output(0)
        let bias = b.inputs.count > 2 ? b.inputs[2] : nil
        try requireFloat(x, y, op: b.name)
        let clamp = try clampRange(o.activation)
        let inC = x.shape[3], outC = w.shape[3]
        let multiplier = outC / inC
        if o.depthMultiplier != 0 && o.depthMultiplier != multiplier {
            // TFLite trusts the filter shape; a disagreeing option is a malformed model.
            throw KernelError.invalid("depth_multiplier \(o.depthMultiplier) disagrees with filter \(w.shape) "
                + "and input channels \(inC)")
        }
        let g = windowGeometry(input: x.shape, output: y.shape, filterHeight: w.shape[1], filterWidth: w.shape[2],
                               strideHeight: o.strideHeight, strideWidth: o.strideWidth,
                               dilationHeight: o.dilationHeight, dilationWidth: o.dilationWidth, padding: o.padding)
        return try withWeights(filter: w, bias: bias, outputChannels: outC) { p in
            switch (p.filter.holdsFloat16Weights, p.bias?.holdsFloat16Weights ?? false) {
            case (false, false):
                FloatKernels.depthwiseConv2D(input: x.float, inputChannels: inC, depthMultiplier: multiplier,
                                             filter: p.filter.float, bias: p.bias?.float, output: y.float,
                                             geometry: g, clamp: clamp)
            case (true, false):
                FloatKernels.depthwiseConv2D(input: x.float, inputChannels: inC, depthMultiplier: multiplier,
                                             filter: p.filter.float16, bias: p.bias?.float, output: y.float,
                                             geometry: g, clamp: clamp)
            case (false, true):
                FloatKernels.depthwiseConv2D(input: x.float, inputChannels: inC, depthMultiplier: multiplier,
                                             filter: p.filter.float, bias: p.bias?.float16, output: y.float,
                                             geometry: g, clamp: clamp)
            case (true, true):
                FloatKernels.depthwiseConv2D(input: x.float, inputChannels: inC, depthMultiplier: multiplier,
                                             filter: p.filter.float16, bias: p.bias?.float16, output: y.float,
                                             geometry: g, clamp: clamp)
            }
        }
    }

    static func pool2D(_ b: OperatorBinding) throws -> Kernel {
        guard case let .pool2D(o) = b.op.builtinOptions else { throw KernelError.invalid("missing Pool2DOptions") }
        let x = try b.input(0), y = try b.output(0)
        try requireFloat(x, y, op: b.name)
        let clamp = try clampRange(o.activation)
        let g = windowGeometry(input: x.shape, output: y.shape, filterHeight: o.filterHeight,
                               filterWidth: o.filterWidth, strideHeight: o.strideHeight, strideWidth: o.strideWidth,
                               dilationHeight: 1, dilationWidth: 1, padding: o.padding)
        let channels = x.shape[3]
        if b.name == "MAX_POOL_2D" {
            return { FloatKernels.maxPool2D(input: x.float, output: y.float, channels: channels, geometry: g, clamp: clamp) }
        }
        return { FloatKernels.averagePool2D(input: x.float, output: y.float, channels: channels, geometry: g, clamp: clamp) }
    }

    // MARK: - Elementwise

    static func elementwiseBinary(_ b: OperatorBinding) throws -> Kernel {
        let l = try b.input(0), r = try b.input(1), y = try b.output(0)
        try requireFloat(l, r, y, op: b.name)
        guard let shapes = FloatKernels.BroadcastShapes(left: l.shape, right: r.shape) else {
            throw KernelError.invalid("shapes \(l.shape) and \(r.shape) do not broadcast")
        }
        switch b.op.builtinOptions {
        case let .add(activation):
            let clamp = try clampRange(activation)
            return { FloatKernels.add(l.float, r.float, output: y.float, shapes: shapes, clamp: clamp) }
        case let .mul(activation):
            let clamp = try clampRange(activation)
            return { FloatKernels.mul(l.float, r.float, output: y.float, shapes: shapes, clamp: clamp) }
        case let .sub(activation):
            let clamp = try clampRange(activation)
            return { FloatKernels.sub(l.float, r.float, output: y.float, shapes: shapes, clamp: clamp) }
        default:
            throw KernelError.invalid("missing options")
        }
    }

    static func logistic(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        try requireFloat(x, y, op: b.name)
        let count = x.elementCount
        return { FloatKernels.logistic(x.float, output: y.float, count: count) }
    }

    static func softmax(_ b: OperatorBinding) throws -> Kernel {
        guard case let .softmax(beta) = b.op.builtinOptions else { throw KernelError.invalid("missing SoftmaxOptions") }
        let x = try b.input(0), y = try b.output(0)
        try requireFloat(x, y, op: b.name)
        let depth = x.shape.last ?? 1
        let rows = depth == 0 ? 0 : x.elementCount / depth
        return { FloatKernels.softmax(x.float, output: y.float, rows: rows, depth: depth, beta: beta) }
    }

    static func resizeBilinear(_ b: OperatorBinding) throws -> Kernel {
        guard case let .resizeBilinear(alignCorners, halfPixelCenters) = b.op.builtinOptions else {
            throw KernelError.invalid("missing ResizeBilinearOptions")
        }
        let x = try b.input(0), y = try b.output(0)
        try requireFloat(x, y, op: b.name)
        let p = FloatKernels.ResizeBilinearParams(
            batches: x.shape[0], inputHeight: x.shape[1], inputWidth: x.shape[2], channels: x.shape[3],
            outputHeight: y.shape[1], outputWidth: y.shape[2], alignCorners: alignCorners,
            halfPixelCenters: halfPixelCenters)
        return { FloatKernels.resizeBilinear(x.float, output: y.float, params: p) }
    }

    static func mean(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        try requireFloat(x, y, op: b.name)
        let rank = x.shape.count
        let axes = try intValues(try b.input(1)).map { $0 < 0 ? $0 + rank : $0 }
        let reduced = (0..<rank).map { axes.contains($0) }
        let shape = x.shape
        return { FloatKernels.mean(x.float, inputShape: shape, reduced: reduced, output: y.float) }
    }

    // MARK: - Quantization boundaries

    static func dequantize(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        guard y.type == .float32 else { throw KernelError.unsupported("DEQUANTIZE to \(y.type.name)") }
        let count = x.elementCount
        switch x.type {
        case .float16:
            return { FloatKernels.dequantize(float16: x.data, output: y.float, count: count) }
        case .int8, .uint8, .int16:
            guard let q = x.quantization, q.isAffine else {
                throw KernelError.invalid("DEQUANTIZE input has no scale/zero point")
            }
            let inner = q.isPerChannel ? x.shape[(q.quantizedDimension + 1)...].reduce(1, *) : 1
            switch x.type {
            case .int8:
                return { FloatKernels.dequantize(x.data.assumingMemoryBound(to: Int8.self), output: y.float, count: count,
                                                 scales: q.scales, zeroPoints: q.zeroPoints, innerCount: inner) }
            case .uint8:
                return { FloatKernels.dequantize(x.data.assumingMemoryBound(to: UInt8.self), output: y.float, count: count,
                                                 scales: q.scales, zeroPoints: q.zeroPoints, innerCount: inner) }
            default:
                return { FloatKernels.dequantize(x.data.assumingMemoryBound(to: Int16.self), output: y.float, count: count,
                                                 scales: q.scales, zeroPoints: q.zeroPoints, innerCount: inner) }
            }
        default:
            throw KernelError.unsupported("DEQUANTIZE from \(x.type.name)")
        }
    }

    static func quantize(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        guard x.type == .float32 else {
            throw KernelError.unsupported("QUANTIZE from \(x.type.name) (requantization): quantized kernels are not wired yet")
        }
        guard let q = y.quantization, q.scales.count == 1 else {
            throw KernelError.unsupported("QUANTIZE needs one output scale")
        }
        let scale = q.scales[0], zeroPoint = Int(q.zeroPoints[0]), count = x.elementCount
        switch y.type {
        case .int8:
            return { FloatKernels.quantize(x.float, output: y.data.assumingMemoryBound(to: Int8.self), count: count,
                                           scale: scale, zeroPoint: zeroPoint) }
        case .uint8:
            return { FloatKernels.quantize(x.float, output: y.data.assumingMemoryBound(to: UInt8.self), count: count,
                                           scale: scale, zeroPoint: zeroPoint) }
        case .int16:
            return { FloatKernels.quantize(x.float, output: y.data.assumingMemoryBound(to: Int16.self), count: count,
                                           scale: scale, zeroPoint: zeroPoint) }
        default:
            throw KernelError.unsupported("QUANTIZE to \(y.type.name)")
        }
    }

    // MARK: - Layout (any element type)

    static func reshape(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        guard x.type == y.type, x.elementCount == y.elementCount else {
            throw KernelError.invalid("RESHAPE from \(x.type.name) \(x.shape) to \(y.type.name) \(y.shape)")
        }
        let bytes = x.elementCount * (try elementSize(x))
        return { y.data.copyMemory(from: x.data, byteCount: bytes) }
    }

    /// True when two tensors' bytes mean the same real values (same type and quantization), so data can
    /// move between them without requantization.
    static func sameRepresentation(_ a: BoundTensor, _ b: BoundTensor) -> Bool {
        guard a.type == b.type else { return false }
        if a.type == .float32 || a.type == .int32 || a.type == .int64 || a.type == .bool { return true }
        return a.quantization?.scales == b.quantization?.scales
            && a.quantization?.zeroPoints == b.quantization?.zeroPoints
    }

    static func concatenation(_ b: OperatorBinding) throws -> Kernel {
        let y = try b.output(0)
        let inputs = b.inputs.compactMap { $0 }
        for x in inputs where !sameRepresentation(x, y) {
            throw KernelError.unsupported("\(b.name) of \(x.type.name) inputs with differing quantization: "
                + "quantized kernels are not wired yet")
        }
        let size = try elementSize(y)
        let axis: Int
        switch b.op.builtinOptions {
        case let .concatenation(a, activation):
            guard activation == .none else { throw KernelError.unsupported("CONCATENATION with a fused activation") }
            axis = a < 0 ? a + y.shape.count : a
        case let .pack(_, a):
            axis = a < 0 ? a + y.shape.count : a
        default:
            throw KernelError.invalid("missing options")
        }
        let outer = y.shape[..<axis].reduce(1, *)
        let blocks = inputs.map { x in x.elementCount / max(outer, 1) * size }
        let pointers = inputs.map { UnsafeRawPointer($0.data) }
        return { LayoutKernels.concatenate(pointers, blockBytes: blocks, outerCount: outer, output: y.data) }
    }

    static func pad(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        guard sameRepresentation(x, y) else { throw KernelError.unsupported("PAD with requantization") }
        let paddings = try intValues(try b.input(1))
        let rank = x.shape.count
        let before = (0..<rank).map { paddings[2 * $0] }, after = (0..<rank).map { paddings[2 * $0 + 1] }
        // The pad value is real 0: 0.0 for floats, the zero point for quantized tensors.
        let padValue: [UInt8]
        switch y.type {
        case .float32, .int32, .int64: padValue = [UInt8](repeating: 0, count: try elementSize(y))
        case .uint8: padValue = [UInt8(clamping: y.quantization?.zeroPoints.first ?? 0)]
        case .int8: padValue = [UInt8(bitPattern: Int8(clamping: y.quantization?.zeroPoints.first ?? 0))]
        default: throw KernelError.unsupported("PAD of \(y.type.name)")
        }
        let shape = x.shape
        return { LayoutKernels.pad(x.data, inputShape: shape, before: before, after: after, padValue: padValue,
                                   output: y.data) }
    }

    static func shape(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        let dims = x.shape
        switch y.type {
        case .int32:
            return { for (i, d) in dims.enumerated() { y.data.storeBytes(of: Int32(d), toByteOffset: 4 * i, as: Int32.self) } }
        case .int64:
            return { for (i, d) in dims.enumerated() { y.data.storeBytes(of: Int64(d), toByteOffset: 8 * i, as: Int64.self) } }
        default:
            throw KernelError.unsupported("SHAPE output of \(y.type.name)")
        }
    }

    static func stridedSlice(_ b: OperatorBinding) throws -> Kernel {
        guard case let .stridedSlice(o) = b.op.builtinOptions else {
            throw KernelError.invalid("missing StridedSliceOptions")
        }
        guard o.ellipsisMask == 0 && o.newAxisMask == 0 else {
            throw KernelError.unsupported("STRIDED_SLICE with ellipsis_mask or new_axis_mask")
        }
        let x = try b.input(0), y = try b.output(0)
        guard sameRepresentation(x, y) else { throw KernelError.unsupported("STRIDED_SLICE with requantization") }
        guard let resolved = LayoutKernels.resolveStridedSlice(
            inputShape: x.shape, begin: try intValues(try b.input(1)), end: try intValues(try b.input(2)),
            strides: try intValues(try b.input(3)), beginMask: o.beginMask, endMask: o.endMask,
            shrinkAxisMask: o.shrinkAxisMask, offset: o.offset)
        else { throw KernelError.invalid("begin/end/strides do not fit the input") }
        let size = try elementSize(x), shape = x.shape
        return { LayoutKernels.stridedSlice(x.data, inputShape: shape, slices: resolved.slices, elementSize: size,
                                            output: y.data) }
    }

    static func tile(_ b: OperatorBinding) throws -> Kernel {
        let x = try b.input(0), y = try b.output(0)
        guard sameRepresentation(x, y) else { throw KernelError.unsupported("TILE with requantization") }
        let multiples = try intValues(try b.input(1))
        let size = try elementSize(x), shape = x.shape
        return { LayoutKernels.tile(x.data, shape: shape, multiples: multiples, elementSize: size, output: y.data) }
    }
}
